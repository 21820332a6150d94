// What goes wrong in a real roll-out, on a live API server: a verifier whose
// new pods never become Ready, and an up killed in the middle of the
// verifier wave. In both the presenters must not move, and the next up must
// finish the rotation in order.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recover, thisHost } from "../../cli/rotate/recover";
import { clusterCommand, clusterMissing } from "../../harness/cluster";
import { availableRv, newReplicaSets, safetyViolations } from "../../harness/evidence";
import { HMAC_PRESENTER, HMAC_VERIFIERS, LiveProject } from "../../harness/live";
import { killTree, pulumiProcessesIn } from "./processes";

const missing = clusterMissing();
const REPLICAS = 2;

/** The presenter's new ReplicaSet comes after every verifier's new one is available. */
function expectOrdered(live: LiveProject, afterRv: number): void {
    const events = live.log.sorted();
    const created = newReplicaSets(events, afterRv);
    const presenter = created.filter((rs) => rs.deployment === HMAC_PRESENTER);
    expect(presenter, "the presenter rolled once").toHaveLength(1);
    for (const v of HMAC_VERIFIERS) {
        const rs = created.filter((r) => r.deployment === v).pop();
        expect(rs, `${v} rolled`).toBeDefined();
        const available = availableRv(events, rs!.name, REPLICAS);
        expect(available, `${v}'s new ReplicaSet became available`).toBeDefined();
        expect(available!).toBeLessThan(presenter[0].rv);
    }
    expect(safetyViolations(events)).toEqual([]);
}

describe("a verifier whose new pods never become Ready", { timeout: 900_000 }, () => {
    let live: LiveProject;
    // Long enough for the verifier that is not held (titan-execution-rs) to
    // finish on a loaded 2-core machine, so the held one is the one named.
    const TIMEOUT = 45;

    beforeAll(async () => {
        if (missing) throw new Error(missing);
        live = await LiveProject.create("live-hold", { replicas: REPLICAS, rolloutTimeoutSeconds: TIMEOUT });
        const up = await live.project.up();
        expect(up.error, up.output).toBeUndefined();
    }, 600_000);
    afterAll(async () => {
        if (live) await clusterCommand(live.cluster, "release").catch(() => undefined);
        await live?.destroy();
    });

    it("fails the overlap within the timeout, naming the workload and the secret; no presenter moves; the ledger stays", async () => {
        await clusterCommand(live.cluster, "hold", `${live.namespace}/titan-sentinel`);
        const mark = live.log.mark();
        live.setHmac(2, "overlap");
        const started = Date.now();
        const up = await live.project.up();
        const seconds = (Date.now() - started) / 1000;
        expect(up.error, "the up fails").toBeDefined();
        expect(up.output).toMatch(
            /The roll-out of titan-sentinel \(Deployment live-hold-[a-z0-9]+\/titan-sentinel, rolling for titan-hmac \(verifier: g2\+g1\)\) did not complete: it did not finish within 45s/,
        );
        expect(up.output).toContain("kubectl -n " + live.namespace + " rollout status deployment/titan-sentinel");
        // Within the timeout, plus the engine's own start and stop.
        expect(seconds).toBeLessThan(TIMEOUT + 90);

        await live.log.sync();
        const events = live.log.sorted();
        expect(newReplicaSets(events, mark).map((rs) => rs.deployment)).not.toContain(HMAC_PRESENTER);
        expect(events.some((e) => e.kind === "Secret" && e.obj.name === "titan-hmac-presenters-g2")).toBe(false);
        expect(safetyViolations(events)).toEqual([]);
        expect((await live.ledger())["titan-hmac"]).toMatchObject({ generation: 1, stage: "stable" });
    });

    it("once the verifier is healthy, the next up completes the overlap in order", async () => {
        const mark = live.log.mark();
        await clusterCommand(live.cluster, "release");
        const up = await live.project.up();
        expect(up.error, up.output).toBeUndefined();
        await live.log.sync();
        const events = live.log.sorted();
        // The held verifier's ReplicaSet was created by the failed up; the presenter's only now.
        const presenter = newReplicaSets(events, mark).filter((rs) => rs.deployment === HMAC_PRESENTER);
        expect(presenter).toHaveLength(1);
        const sentinelRs = newReplicaSets(events, 0)
            .filter((rs) => rs.deployment === "titan-sentinel")
            .pop()!;
        expect(availableRv(events, sentinelRs.name, REPLICAS)!).toBeLessThan(presenter[0].rv);
        expect(safetyViolations(events)).toEqual([]);
        expect((await live.ledger())["titan-hmac"]).toMatchObject({ generation: 2, stage: "overlap" });
    });
});

describe("an up killed during the verifier wave", { timeout: 900_000 }, () => {
    let live: LiveProject;

    beforeAll(async () => {
        if (missing) throw new Error(missing);
        live = await LiveProject.create("live-kill", { replicas: REPLICAS });
        const up = await live.project.up();
        expect(up.error, up.output).toBeUndefined();
    }, 600_000);
    afterAll(async () => live?.destroy());

    it("keeps the safety rule at every moment; rotate recover and one up finish the overlap in order", async () => {
        const mark = live.log.mark();
        live.setHmac(2, "overlap");
        const up = live.project.up();
        let killed = 0;
        for (let i = 0; i < 1200 && killed === 0; i++) {
            if (newReplicaSets(live.log.sorted(), mark).some((rs) => HMAC_VERIFIERS.includes(rs.deployment))) {
                for (const pid of pulumiProcessesIn(live.project.dir)) killed += killTree(pid);
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        expect(killed, "the CLI and its plugins were killed in the verifier wave").toBeGreaterThan(0);
        expect((await up).error).toBeDefined();
        await live.log.sync();
        expect(newReplicaSets(live.log.sorted(), mark).map((rs) => rs.deployment)).not.toContain(HMAC_PRESENTER);

        // The engine refuses the next command until the lock of the dead CLI goes.
        const locked = live.project.cli(["up", "--yes", "--stack", "live"]);
        expect(locked.status).not.toBe(0);
        expect(locked.stderr + locked.stdout).toMatch(/currently locked/);
        const report = recover("live", (args) => live.project.cli(args), thisHost());
        expect(report.refused).toBeUndefined();
        expect(report.removedLocks).toHaveLength(1);
        expect(report.ran[0]).toBe("pulumi cancel --stack live --yes");

        const next = await live.project.up();
        expect(next.error, next.output).toBeUndefined();
        await live.log.sync();
        expectOrdered(live, mark);
        expect((await live.ledger())["titan-hmac"]).toMatchObject({ generation: 2, stage: "overlap" });
        const again = await live.project.preview();
        expect(Object.keys(again.changes).filter((op) => op !== "same" && op !== "read")).toEqual([]);
    });
});
