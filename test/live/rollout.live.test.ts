// A whole HMAC rotation on a live API server (scripts/cluster.sh): the
// evidence of order comes from the server's own objects, in the order etcd
// committed them, not from the engine's events.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, planRotation, readLedger, rolloutState } from "../../model";
import type { Step } from "../../harness/engine";
import { clusterMissing, kubectl } from "../../harness/cluster";
import { availableRv, deletedRv, newReplicaSets, podsOutlivingTheirSecrets, safetyViolations, secretObjects } from "../../harness/evidence";
import { HMAC_PRESENTER, HMAC_VERIFIERS, LiveProject, hmacAt } from "../../harness/live";
import type { ServerEvent } from "../../harness/serverLog";

const missing = clusterMissing();
const REPLICAS = 3;

/** Workloads the model says must restart in the next up (its minimum), from the config and the last ledger. */
async function expectedRestarts(live: LiveProject, secrets: Record<string, unknown>): Promise<string[]> {
    const raw = { services: live.config["titan-secrets:services"], secrets, kubernetes: live.config["titan-secrets:kubernetes"] };
    const plan = planRotation(parseConfig(raw, "live"), readLedger((await live.project.outputs()).ledger).ledger, new Date());
    return plan.workloads
        .filter((w) => w.changed)
        .map((w) => w.service.name)
        .sort();
}

function changes(preview: { changes: Record<string, number> }): string[] {
    return Object.keys(preview.changes).filter((op) => op !== "same" && op !== "read");
}

/** Every workload of the namespace (Deployments; titan-redis and titan-nats are StatefulSets), as the server reports it now. */
async function rollouts(live: LiveProject): Promise<Record<string, string>> {
    const list = JSON.parse(await kubectl(live.cluster, "-n", live.namespace, "get", "deployments,statefulsets", "-o", "json")) as {
        items: any[];
    };
    return Object.fromEntries(list.items.map((d) => [d.metadata.name, rolloutState(d, d.metadata.generation).state]));
}

function expectNoError(step: Step): void {
    expect(step.error, step.output).toBeUndefined();
}

describe("a rotation on a live API server", { timeout: 900_000 }, () => {
    let live: LiveProject;
    const seen = new Map<string, string>();
    const remember = async () => (await live.project.keyValues()).forEach((v, k) => seen.set(`${k}@${v.slice(0, 4)}`, v));

    beforeAll(async () => {
        if (missing) throw new Error(missing);
        live = await LiveProject.create("live-rotation");
    }, 600_000);
    afterAll(async () => live?.destroy());

    it("1. stable g1: the up returns only when every Deployment has rolled out; a second preview and up change nothing", async () => {
        expectNoError(await live.project.up());
        await remember();
        // Read at once: had the up returned early, some roll-out would still be running.
        expect(
            Object.values(await rollouts(live)).every((s) => s === "done"),
            JSON.stringify(await rollouts(live)),
        ).toBe(true);
        expect(Object.keys(await rollouts(live)).sort()).toEqual([
            "titan-ai-quant",
            "titan-brain",
            "titan-execution-rs",
            "titan-nats",
            "titan-redis",
            "titan-sentinel",
        ]);
        const mark = live.log.mark();
        expect(changes(await live.project.preview())).toEqual([]);
        expectNoError(await live.project.up());
        await live.log.sync();
        expect(newReplicaSets(live.log.sorted(), mark)).toEqual([]);
    });

    it("2. overlap g2: every verifier's new ReplicaSet is available before the presenter's is created; only the consumers roll, once each", async () => {
        const secrets = hmacAt(live.config, 2, "overlap");
        const expected = await expectedRestarts(live, secrets);
        expect(expected).toEqual([HMAC_PRESENTER, ...HMAC_VERIFIERS].sort());
        const mark = live.log.mark();
        live.setHmac(2, "overlap");

        // Mid-roll-out, one presenter pod dies: it must come back with the key it had.
        const up = live.project.up();
        let killedPod: string | undefined;
        for (let i = 0; i < 600 && killedPod === undefined; i++) {
            const started = newReplicaSets(live.log.sorted(), mark).some((rs) => HMAC_VERIFIERS.includes(rs.deployment));
            if (started) {
                const pods = live.log
                    .sorted()
                    .filter((e) => e.kind === "Pod" && e.obj.labels.app === HMAC_PRESENTER && e.type !== "DELETED");
                killedPod = pods[pods.length - 1]?.obj.name;
                if (killedPod) await kubectl(live.cluster, "-n", live.namespace, "delete", "pod", killedPod, "--wait=false");
            }
            await new Promise((r) => setTimeout(r, 200));
        }
        const step = await up;
        expectNoError(step);
        await remember();
        expect(killedPod, "a presenter pod was deleted during the verifier wave").toBeDefined();
        expect(Object.values(await rollouts(live)).every((s) => s === "done")).toBe(true);

        await live.log.sync();
        const events = live.log.sorted();
        const created = newReplicaSets(events, mark);
        expect(created.map((rs) => rs.deployment).sort(), "one new ReplicaSet per consumer that must restart").toEqual(expected);
        const presenterRs = created.find((rs) => rs.deployment === HMAC_PRESENTER)!;
        for (const v of HMAC_VERIFIERS) {
            const rs = created.find((r) => r.deployment === v)!;
            const available = availableRv(events, rs.name, REPLICAS);
            expect(available, `${v}'s new ReplicaSet became available`).toBeDefined();
            expect(
                available!,
                `${v} available (rv ${available}) before ${HMAC_PRESENTER}'s new ReplicaSet (rv ${presenterRs.rv})`,
            ).toBeLessThan(presenterRs.rv);
        }
        // The presenters' object of the new generation appears only after the verifiers rolled.
        const presentersG2 = events.find((e) => e.kind === "Secret" && e.type === "ADDED" && e.obj.name === "titan-hmac-presenters-g2")!;
        for (const v of HMAC_VERIFIERS)
            expect(presentersG2.rv).toBeGreaterThan(availableRv(events, created.find((r) => r.deployment === v)!.name, REPLICAS)!);
        expect(safetyViolations(events)).toEqual([]);

        // The pod that died came back on the old template, reading an object that still existed.
        const replacement = events.find(
            (e) => e.kind === "Pod" && e.type === "ADDED" && e.obj.labels.app === HMAC_PRESENTER && e.rv > mark && e.rv < presenterRs.rv,
        );
        expect(replacement, "the deleted presenter pod was replaced before the presenter wave").toBeDefined();
        expect(replacement!.obj.secretRefs).toContain("titan-hmac-presenters-g1");
        expect(deletedRv(events, "Secret", "titan-hmac-presenters-g1") ?? Infinity).toBeGreaterThan(replacement!.rv);
        expect(podsOutlivingTheirSecrets(events)).toEqual([]);
        expect((await live.ledger())["titan-hmac"]).toMatchObject({ generation: 2, stage: "overlap" });

        const again = live.log.mark();
        expect(changes(await live.project.preview())).toEqual([]);
        expectNoError(await live.project.up());
        await live.log.sync();
        expect(newReplicaSets(live.log.sorted(), again)).toEqual([]);
    });

    it("3. stable g2: only the verifiers roll; each replaced Secret object is deleted after every pod reading it is gone", async () => {
        const secrets = hmacAt(live.config, 2, "stable");
        const expected = await expectedRestarts(live, secrets);
        expect(expected).toEqual(HMAC_VERIFIERS);
        const mark = live.log.mark();
        live.setHmac(2, "stable");
        expectNoError(await live.project.up());
        await live.log.sync();
        const events = live.log.sorted();
        expect(
            newReplicaSets(events, mark)
                .map((rs) => rs.deployment)
                .sort(),
        ).toEqual(expected);
        const gone = deletedRv(events, "Secret", "titan-hmac-verifiers-g2-g1");
        expect(gone, "the verifiers' g2+g1 object is deleted").toBeDefined();
        const lastReader = events
            .filter((e) => e.kind === "Pod" && e.type === "DELETED" && (e.obj.secretRefs ?? []).includes("titan-hmac-verifiers-g2-g1"))
            .pop();
        expect(lastReader!.rv).toBeLessThan(gone!);
        expect(podsOutlivingTheirSecrets(events)).toEqual([]);
        expect(safetyViolations(events)).toEqual([]);
        expect([...secretObjects(events).keys()]).toContain("titan-hmac-verifiers-g2");
        expect(changes(await live.project.preview())).toEqual([]);
    });

    it("4. no key value in anything this suite printed, the state export, the engine's logs or the cluster's events", async () => {
        await remember();
        expect(seen.size).toBeGreaterThanOrEqual(4); // titan-hmac g1 and g2, the Redis and NATS passwords
        await live.project.exportState();
        const events = await kubectl(live.cluster, "-n", live.namespace, "get", "events", "-o", "json");
        const serverLog = JSON.stringify(live.log.events as ServerEvent[]);
        const haystack = [live.project.transcript.join("\n"), events, serverLog, live.engineLogs()].join("\n");
        expect(haystack).toContain("titan-hmac-verifiers-g2"); // the search ran over real output
        for (const v of seen.values()) {
            for (const encoded of [v, Buffer.from(v).toString("base64")]) expect(haystack.includes(encoded)).toBe(false);
        }
    });
});
