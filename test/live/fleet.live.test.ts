// One key ring, two clusters: two API servers (scripts/cluster.sh, two
// control planes on their own loopback ports), a key stack and two workload
// stacks on one file backend. A signer and a listener of titan-hmac in each
// cluster. The evidence of order comes from both API servers' own objects:
// within a cluster the order etcd committed them in, across clusters their
// timestamps (one machine, one clock).

import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localEngineEnv } from "../../cli/backend";
import { E2EProject, ENGINE_ROOT, Step, projectCopy } from "../../harness/engine";
import { Cluster, clusterMissing, createNamespace, deleteNamespace, ensureCluster, kubeConfig } from "../../harness/cluster";
import { availableAt, availableRv, newReplicaSets, safetyViolations } from "../../harness/evidence";
import { FLEET_CLUSTERS, FLEET_SECRET, fleetStackConfigs } from "../../harness/fleet";
import { REPO } from "../../harness/stackFiles";
import { ServerLog } from "../../harness/serverLog";
import { killTree } from "./processes";

const missing = clusterMissing();
const REPLICAS = 2;
const CLUSTERS = ["eu", "us"] as const;

interface Side {
    cluster: Cluster;
    namespace: string;
    log: ServerLog;
    project: E2EProject;
}

function ok(step: Step): Step {
    expect(step.error, step.output.slice(-3000)).toBeUndefined();
    return step;
}

/** `npm run rotate -- <args>` as a person runs it, against the fleet's own backend (--backend login). */
function rotate(dir: string, args: string[], onStart?: (pid: number) => void) {
    const env = {
        ...process.env,
        PATH: `${join(ENGINE_ROOT, "bin")}:${process.env.PATH}`,
        ...localEngineEnv(join(dir, ".pulumi-home"), join(dir, ".pulumi-state"), "titan-dev"),
    };
    const child = spawn(
        join(REPO, "node_modules", ".bin", "tsx"),
        [join(REPO, "cli", "rotate", "main.ts"), ...args, "--backend", "login"],
        {
            cwd: REPO,
            env,
            detached: true,
        },
    );
    onStart?.(child.pid!);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
}

describe.skipIf(missing !== undefined)("one key ring, two clusters on two API servers", { timeout: 1_500_000 }, () => {
    const sides = new Map<string, Side>();
    let dir: string;
    let keys: E2EProject;
    const outputs: string[] = [];
    /** Every key the key ring made, for the leak search. */
    const seen = new Set<string>();
    const remember = async () => (await keys.keyValues()).forEach((v) => seen.add(v));
    let configs: ReturnType<typeof fleetStackConfigs>;

    beforeAll(async () => {
        dir = projectCopy();
        const clusters = { eu: await ensureCluster("test"), us: await ensureCluster("test-b") };
        const targets: Parameters<typeof fleetStackConfigs>[0] = {};
        const made: Record<string, { cluster: Cluster; namespace: string; log: ServerLog }> = {};
        for (const c of CLUSTERS) {
            const cluster = clusters[c];
            const namespace = await createNamespace(cluster, `fleet-${c}`);
            const log = await ServerLog.start(await kubeConfig(cluster), namespace);
            made[c] = { cluster, namespace, log };
            targets[c] = {
                kubeconfig: cluster.kubeconfig,
                context: cluster.context,
                namespace,
                replicas: REPLICAS,
                rolloutTimeoutSeconds: 180,
            };
        }
        configs = fleetStackConfigs(targets);
        for (const c of CLUSTERS) sides.set(c, { ...made[c], project: await E2EProject.open(dir, c, configs[c]) });
        keys = await E2EProject.open(dir, "keys", configs.keys(1, "stable"));
    }, 600_000);

    afterAll(async () => {
        for (const s of sides.values()) {
            s.log.stop();
            await deleteNamespace(s.cluster, s.namespace);
        }
        keys?.destroy();
    });

    const side = (c: string) => sides.get(c)!;

    it("1. stable g1: the key ring, then each cluster; both clusters' verifiers and presenters hold the ring's one key", async () => {
        ok(await keys.up());
        await remember();
        for (const c of CLUSTERS) ok(await side(c).project.up());
        for (const c of CLUSTERS) {
            const ledger = (await side(c).project.outputs()).ledger as Record<string, { stage: string; generation: number }>;
            expect(ledger[FLEET_SECRET]).toMatchObject({ stage: "stable", generation: 1 });
            await side(c).log.sync();
            const ready = side(c)
                .log.sorted()
                .filter((e) => e.kind === "Pod" && e.obj.ready && e.obj.secretRefs?.some((r) => r.startsWith(`${FLEET_SECRET}-`)));
            expect(new Set(ready.map((e) => e.obj.labels.app)), c).toEqual(new Set(Object.values(FLEET_CLUSTERS[c])));
        }
    });

    let overlapMark: Record<string, number>;

    it("2. overlap g2: eu's verifiers' step; eu's presenters' step is then refused while us's verifiers hold g1, and changes nothing", async () => {
        overlapMark = Object.fromEntries(CLUSTERS.map((c) => [c, side(c).log.mark()]));
        keys.setConfig("secrets", configs.keys(2, "overlap")["titan-secrets:secrets"]);
        ok(await keys.up());
        await remember();
        const eu = side("eu");
        const step = ok(await eu.project.up());
        expect(step.output).toContain("presenters in eu stay on g1 until every cluster's verifiers hold g2; behind: us");
        await eu.log.sync();
        expect(newReplicaSets(eu.log.sorted(), overlapMark.eu).map((r) => r.deployment)).toEqual([FLEET_CLUSTERS.eu.verifier]);

        const mark = eu.log.mark();
        const early = await eu.project.up();
        expect(early.error).toBeDefined();
        expect(early.output).toContain(
            `titan-secrets:consumers.${FLEET_SECRET}.presenters: found the presenters' step of ${FLEET_SECRET} in eu`,
        );
        expect(early.output).toContain("while verifiers in us (verifiers g1, presenters g1; its last up followed stable at generation 1)");
        await eu.log.sync();
        const after = eu.log.sorted().filter((e) => e.rv > mark && e.type !== "LISTED");
        expect(
            after.filter((e) => e.kind !== "Pod"),
            "the refused up wrote nothing to the API server",
        ).toEqual([]);
    });

    it("3. rotate run, killed during us's up, then `rotate recover` and the printed command finish the rotation", async () => {
        const us = side("us");
        let pid = 0;
        const killed = rotate(dir, ["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--dir", dir], (p) => (pid = p));
        // Kill the whole run (the CLI, its pulumi and the program) once us's verifiers are rolling.
        let rolling = false;
        for (let i = 0; i < 900 && !rolling; i++) {
            rolling = newReplicaSets(us.log.sorted(), overlapMark.us).some((r) => r.deployment === FLEET_CLUSTERS.us.verifier);
            if (!rolling) await new Promise((r) => setTimeout(r, 200));
        }
        expect(rolling, "us's verifiers started rolling under rotate run").toBe(true);
        // The CLI, its pulumi, the language host and program, and the providers (their own process group): at once.
        expect(killTree(pid)).toBeGreaterThan(3);
        const first = await killed;
        outputs.push(first.stdout, first.stderr);
        expect(first.signal).toBe("SIGKILL");
        expect(first.stdout).toContain("- pulumi up us: verifiers take g2+g1");

        const recovered = await rotate(dir, ["recover", "--stack", "us"]);
        outputs.push(recovered.stdout, recovered.stderr);
        expect(recovered.code, recovered.stderr + recovered.stdout).toBe(0);

        // Resumed with --parallel: the two clusters' retire ups run side by side through the Automation API.
        const resumed = await rotate(dir, ["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--dir", dir, "--generation", "2", "--parallel"]);
        outputs.push(resumed.stdout, resumed.stderr);
        expect(resumed.code, resumed.stderr.slice(-3000) + resumed.stdout).toBe(0);
        const steps = resumed.stdout.split("\n").filter((l) => l.startsWith("- "));
        expect(steps).toEqual([
            "- pulumi up us: verifiers take g2+g1",
            "- pulumi up eu: presenters move to g2",
            "- Pulumi.keys.yaml: titan-hmac overlap at generation 2 -> stable at generation 2 (commit this change)",
            "- pulumi up keys: apply stable at generation 2 to the key ring",
            "- side by side: eu, us",
            "- pulumi up eu: verifiers drop the old generation (stable at generation 2)",
            "- pulumi up us: verifiers drop the old generation (stable at generation 2)",
        ]);
        expect(resumed.stdout).toContain("rotate run: done: titan-hmac is stable at generation 2 in the key ring and every cluster");

        const status = await rotate(dir, ["status", "--stacks", "keys,eu,us", "--dir", dir, "--json"]);
        expect(status.code, status.stderr).toBe(0);
        const report = JSON.parse(status.stdout) as Record<string, { keyRing: { stage: string }; clusters: Record<string, unknown> }>;
        expect(report[FLEET_SECRET].keyRing).toMatchObject({ stage: "stable", generation: 2 });
        for (const c of CLUSTERS)
            expect(report[FLEET_SECRET].clusters[c]).toEqual({
                verifiers: [2],
                presenters: [2],
                stage: "stable",
                generation: 2,
                presentersHeldAt: null,
            });
    });

    it("4. both API servers: every verifier's new ReplicaSet in both clusters was available before any presenter's new ReplicaSet in either was created", async () => {
        const verifierReady: { cluster: string; rs: string; at: string; rv: number }[] = [];
        const presenterCreated: { cluster: string; rs: string; at: string; rv: number }[] = [];
        for (const c of CLUSTERS) {
            const s = side(c);
            await s.log.sync();
            const events = s.log.sorted();
            expect(safetyViolations(events), c).toEqual([]);
            const created = newReplicaSets(events, overlapMark[c]);
            // The overlap's new ReplicaSets: each consumer's first after the mark (retiring rolls the verifiers again later).
            const firstOf = (svc: string) => created.find((r) => r.deployment === svc);
            const v = firstOf(FLEET_CLUSTERS[c].verifier)!;
            const p = firstOf(FLEET_CLUSTERS[c].presenter)!;
            expect(v, `${c}'s verifier rolled`).toBeDefined();
            expect(p, `${c}'s presenter rolled`).toBeDefined();
            const at = availableAt(events, v.name, REPLICAS);
            expect(at, `${c}'s verifier ReplicaSet ${v.name} became available`).toBeDefined();
            verifierReady.push({ cluster: c, rs: v.name, at: at!, rv: availableRv(events, v.name, REPLICAS)! });
            presenterCreated.push({ cluster: c, rs: p.name, at: p.createdAt, rv: p.rv });
            // Within one cluster, the server's own commit order.
            expect(verifierReady.at(-1)!.rv).toBeLessThan(p.rv);
        }
        for (const v of verifierReady)
            for (const p of presenterCreated)
                expect(v.at <= p.at, `${v.cluster} verifier available ${v.at} <= ${p.cluster} presenter created ${p.at}`).toBe(true);
        // The two clusters' presenters moved in different ups, after eu's verifiers (step 2), which were done before us's up.
        const euVerifier = verifierReady.find((v) => v.cluster === "eu")!;
        const usPresenter = presenterCreated.find((p) => p.cluster === "us")!;
        expect(euVerifier.at < usPresenter.at).toBe(true);
    });

    it("5. no key in any output: the CLI's and rotate's transcripts, the workload stacks' plain state", async () => {
        await remember();
        const values = [...seen];
        expect(values.length, "g1 and g2").toBe(2);
        const texts = [...outputs, ...keys.transcript, ...CLUSTERS.flatMap((c) => side(c).project.transcript)];
        for (const c of CLUSTERS) texts.push(await side(c).project.exportState(false));
        for (const t of texts) for (const v of values) expect(t.includes(v)).toBe(false);
    });
});
