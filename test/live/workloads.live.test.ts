// A rotation on a live API server whose consumers are four kinds of
// workload: titan-hmac is verified by a StatefulSet (titan-execution-rs) and
// a DaemonSet (titan-sentinel) and presented by an owned Deployment
// (titan-ai-quant) and a Deployment another field manager owns ("helm":
// brain-ext). The evidence of order comes from the server's pods, in the
// order etcd committed them; the other manager's fields must survive the
// rotation, its own re-apply, and the stack's destroy.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rolloutState } from "../../model";
import { clusterMissing, kubectl } from "../../harness/cluster";
import { podRollout, safetyViolations } from "../../harness/evidence";
import { materialize, projectedFiles, readAs } from "../../harness/kubelet";
import { LiveProject } from "../../harness/live";

const missing = clusterMissing();
const REPLICAS = 2;
const EXTERNAL = "brain-ext";
const USER = 10001;
const GROUP = 10002;

/** The other tool's manifest: its image, replicas and labels, and a container named "brain". */
function externalManifest(namespace: string, image: string): string {
    return JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: EXTERNAL, namespace, labels: { "app.kubernetes.io/managed-by": "Helm", team: "brain" } },
        spec: {
            replicas: REPLICAS,
            selector: { matchLabels: { app: EXTERNAL } },
            template: { metadata: { labels: { app: EXTERNAL } }, spec: { containers: [{ name: "brain", image }] } },
        },
    });
}

describe("a rotation across a StatefulSet, a DaemonSet, an owned Deployment and one owned elsewhere", { timeout: 900_000 }, () => {
    let live: LiveProject;
    let dir: string;

    const helmApply = async (image: string) => {
        const file = join(dir, "external.json");
        writeFileSync(file, externalManifest(live.namespace, image));
        await kubectl(live.cluster, "-n", live.namespace, "apply", "--server-side", "--field-manager=helm", "-f", file);
    };
    const getJson = async (kind: string, name: string) =>
        JSON.parse(await kubectl(live.cluster, "-n", live.namespace, "get", kind, name, "-o", "json", "--show-managed-fields"));
    const hmac = (generation: number, stage: string) => {
        const secrets = live.config["titan-secrets:secrets"] as Record<string, Record<string, unknown>>;
        return {
            ...secrets,
            "titan-hmac": {
                ...secrets["titan-hmac"],
                generation,
                stage,
                minOverlapHours: 0,
                verifiers: ["titan-execution-rs", "titan-sentinel"],
                presenters: ["titan-brain", "titan-ai-quant"],
            },
        };
    };

    beforeAll(async () => {
        if (missing) throw new Error(missing);
        dir = mkdtempSync(join(tmpdir(), "titan-kinds-"));
        live = await LiveProject.create("live-kinds", {
            replicas: REPLICAS,
            edit: (config) => {
                const services = config["titan-secrets:services"] as Record<string, Record<string, unknown>>;
                services["titan-execution-rs"].workload = "StatefulSet";
                services["titan-sentinel"] = { image: services["titan-sentinel"].image, workload: "DaemonSet" };
                services["titan-brain"] = { ownedElsewhere: { kind: "Deployment", name: EXTERNAL, container: "brain" } };
                services["titan-ai-quant"].runAs = { user: USER, group: GROUP };
            },
        });
        live.project.setConfig("secrets", hmac(1, "stable"));
        await helmApply("ghcr.io/titan/brain:7.1.0");
    }, 600_000);
    afterAll(async () => {
        await live?.destroy();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("1. stable g1: every kind has rolled out when the up returns; the other manager's fields are untouched", async () => {
        const up = await live.project.up();
        expect(up.error, up.output).toBeUndefined();
        for (const [kind, name] of [
            ["StatefulSet", "titan-execution-rs"],
            ["DaemonSet", "titan-sentinel"],
            ["Deployment", "titan-ai-quant"],
            ["Deployment", EXTERNAL],
        ]) {
            const obj = await getJson(kind.toLowerCase(), name);
            expect(rolloutState({ ...obj, kind }, obj.metadata.generation).state, `${kind} ${name}`).toBe("done");
        }
        const ext = await getJson("deployment", EXTERNAL);
        expect(ext.spec.replicas).toBe(REPLICAS);
        expect(ext.metadata.labels).toMatchObject({ team: "brain" });
        const container = ext.spec.template.spec.containers[0];
        expect(container.image).toBe("ghcr.io/titan/brain:7.1.0");
        expect(container.env.map((e: { name: string }) => e.name)).toContain("TITAN_HMAC_SECRET_PRIMARY");
        const managers = (ext.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
        expect(managers).toEqual(expect.arrayContaining(["helm", "titan-secrets"]));
    });

    it("1b. a non-root pod: what the kubelet would mount from the server's pod and Secret objects is readable by its user only", async () => {
        const pods = JSON.parse(await kubectl(live.cluster, "-n", live.namespace, "get", "pods", "-l", "app=titan-ai-quant", "-o", "json"));
        const pod = pods.items[0];
        expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: USER, runAsGroup: GROUP, fsGroup: GROUP });
        const secretData = (name: string): Record<string, string> => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(secrets.get(name) ?? {})) out[k] = Buffer.from(String(v), "base64").toString("utf8");
            return out;
        };
        const secrets = new Map<string, Record<string, string>>();
        for (const v of pod.spec.volumes ?? [])
            for (const src of v.projected?.sources ?? [])
                if (src.secret) secrets.set(src.secret.name, (await getJson("secret", src.secret.name)).data);
        const files = projectedFiles(pod.spec, secretData);
        expect(files.length).toBeGreaterThan(0);
        const root = join(dir, "pod");
        mkdirSync(root, { mode: 0o755 });
        chmodSync(dir, 0o755);
        materialize(root, files);
        for (const f of files) {
            expect(f.mode & 0o007, `${f.path} is world-readable`).toBe(0);
            const read = readAs(join(root, f.path), USER, GROUP);
            expect(read.ok, `${f.path} as ${USER}:${GROUP}`).toBe(true);
            expect(readAs(join(root, f.path), USER + 7, USER + 7)).toEqual({ ok: false, code: "EACCES" });
        }
    });

    it("2. overlap g2: the StatefulSet's and DaemonSet's new pods are Ready before any presenter pod reads g2", async () => {
        const mark = live.log.mark();
        live.project.setConfig("secrets", hmac(2, "overlap"));
        const up = await live.project.up();
        expect(up.error, up.output).toBeUndefined();
        await live.log.sync();
        const events = live.log.sorted();
        const verifiersDone = [
            podRollout(events, "titan-execution-rs", "titan-hmac-verifiers-g2-g1", REPLICAS, mark),
            podRollout(events, "titan-sentinel", "titan-hmac-verifiers-g2-g1", 1, mark), // one node: one pod
        ];
        const presenters = [
            podRollout(events, "titan-ai-quant", "titan-hmac-presenters-g2", REPLICAS, mark),
            podRollout(events, EXTERNAL, "titan-hmac-presenters-g2", REPLICAS, mark),
        ];
        for (const v of verifiersDone) expect(v.doneRv, JSON.stringify(verifiersDone)).toBeDefined();
        for (const p of presenters) {
            expect(p.firstNewRv, JSON.stringify(presenters)).toBeDefined();
            expect(p.doneRv).toBeDefined();
            for (const v of verifiersDone) expect(v.doneRv!).toBeLessThan(p.firstNewRv!);
        }
        expect(safetyViolations(events)).toEqual([]);
    });

    it("3. the other manager re-applies its manifest (a new image): the rotation's fields stay, its own change lands", async () => {
        await helmApply("ghcr.io/titan/brain:7.2.0");
        const ext = await getJson("deployment", EXTERNAL);
        const container = ext.spec.template.spec.containers[0];
        expect(container.image).toBe("ghcr.io/titan/brain:7.2.0");
        expect(container.env.find((e: { name: string }) => e.name === "TITAN_HMAC_SECRET_PRIMARY").valueFrom.secretKeyRef.name).toBe(
            "titan-hmac-presenters-g2",
        );
        expect(ext.spec.template.metadata.annotations["titan-secrets.io/consumes"]).toContain("titan-hmac");
        // The program sees no drift: a preview changes nothing.
        const preview = await live.project.preview();
        expect(Object.keys(preview.changes).filter((op) => op !== "same" && op !== "read")).toEqual([]);
    });

    it("4. stable g2: the verifiers roll again, the presenters keep their pods", async () => {
        const mark = live.log.mark();
        live.project.setConfig("secrets", hmac(2, "stable"));
        const up = await live.project.up();
        expect(up.error, up.output).toBeUndefined();
        await live.log.sync();
        const events = live.log.sorted();
        expect(podRollout(events, "titan-execution-rs", "titan-hmac-verifiers-g2", REPLICAS, mark).doneRv).toBeDefined();
        expect(podRollout(events, "titan-sentinel", "titan-hmac-verifiers-g2", 1, mark).doneRv).toBeDefined();
        const newPresenterPods = events.filter(
            (e) => e.rv > mark && e.kind === "Pod" && e.type === "ADDED" && [EXTERNAL, "titan-ai-quant"].includes(e.obj.labels.app),
        );
        expect(newPresenterPods).toEqual([]);
        expect(safetyViolations(events)).toEqual([]);
    });

    it("5. a field the other manager has taken is a conflict the up reports; it is not forced back", async () => {
        // The other tool force-applies the pod-template annotation the program writes.
        const file = join(dir, "taken.json");
        const manifest = JSON.parse(externalManifest(live.namespace, "ghcr.io/titan/brain:7.2.0"));
        manifest.spec.template.metadata.annotations = { "titan-secrets.io/consumes": "set-by-hand" };
        writeFileSync(file, JSON.stringify(manifest));
        await kubectl(
            live.cluster,
            "-n",
            live.namespace,
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=helm",
            "-f",
            file,
        );

        live.project.setConfig("secrets", hmac(3, "overlap"));
        const up = await live.project.up();
        expect(up.error, "the up fails on the conflict").toBeDefined();
        expect(up.output).toMatch(/conflict/i);
        expect(up.output).toContain("helm");
        expect(up.output).toContain("titan-secrets.io/consumes");
        const ext = await getJson("deployment", EXTERNAL);
        expect(ext.spec.template.metadata.annotations["titan-secrets.io/consumes"]).toBe("set-by-hand");
        // The ledger keeps the last applied stage.
        expect((await live.ledger())["titan-hmac"]).toMatchObject({ generation: 2, stage: "stable" });
    });

    it("6. destroy removes only the program's fields from the workload it does not own", async () => {
        const r = await live.project.stack.destroy({ color: "never" });
        expect(r.summary.result).toBe("succeeded");
        const ext = await getJson("deployment", EXTERNAL);
        const container = ext.spec.template.spec.containers[0];
        expect(container.image).toBe("ghcr.io/titan/brain:7.2.0");
        expect(ext.spec.replicas).toBe(REPLICAS);
        expect(container.env ?? []).toEqual([]);
        // The annotation is the other manager's now (step 5): it stays.
        expect(ext.spec.template.metadata.annotations?.["titan-secrets.io/consumes"]).toBe("set-by-hand");
        expect((ext.metadata.managedFields as { manager: string }[]).map((m) => m.manager)).not.toContain("titan-secrets");
    });
});
