// Figure 6: the wall time of an overlap `pulumi up` on a live API server
// (scripts/cluster.sh: kube-apiserver, controller-manager, scheduler, etcd,
// kwok's fake node) against its physical floor.
//
// titan-hmac stable g1 -> overlap g2 rolls the two verifiers
// (titan-execution-rs, titan-sentinel) together, then the presenter
// (titan-brain): two waves, each at least as long as its slowest roll-out.
// The floor is two single roll-outs, measured alone in the same run on one
// of the project's own Deployments (titan-ai-quant, same replicas, no part
// in titan-hmac): a pod-template annotation patched through the API, timed
// until the roll-out is done by the program's own rule (kubectl's `rollout
// status`, and every old pod gone: model/rolloutStatus.ts),
// polled every 100 ms. The fixed cost of an up (engine, language host,
// program, providers, state) is measured too: an up with nothing to change,
// on the same project.
//
// Each repeat is a fresh project (harness/live.ts LiveProject: its own
// namespace, the dev stack's services at `replicas` pods each): an untimed
// first up at stable g1, then timed: the no-change up, single roll-outs, the
// overlap up. The server's own record (ServerLog) checks every measurement
// did what it claims (the overlap rolled exactly the three consumers, each
// verifier available before the presenter's new ReplicaSet; the no-change
// up rolled nothing) and splits the overlap up into its phases.

import { rmSync } from "node:fs";
import { join } from "node:path";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { PodObject, WorkloadObject, rolloutState } from "../model";
import { engineMissing } from "../harness/engine";
import { Cluster, STARTED_BY_TESTS, clusterCommand, clusterDir, clusterMissing, ensureCluster } from "../harness/cluster";
import { availableRv, newReplicaSets } from "../harness/evidence";
import { HMAC_PRESENTER, HMAC_VERIFIERS, LiveProject } from "../harness/live";
import type { ServerEvent } from "../harness/serverLog";
import { median } from "./timing";

export interface RolloutOptions {
    /** Fresh projects, each measured once for the overlap up and the no-change up. */
    repeats: number;
    /** Single roll-outs timed per project. */
    singles: number;
    /** Pods per service. */
    replicas: number;
    /** scripts/cluster.sh --name: started if it is not running. */
    cluster: string;
    /**
     * Stop the cluster afterwards if this figure started it. Under vitest,
     * false: the live suites may be using it by then, and the suite's
     * teardown stops what the run started.
     */
    stopStarted: boolean;
}

/** The Deployment rolled alone for the floor: one of the project's own, outside titan-hmac. */
export const SINGLE = "titan-ai-quant";

export interface OverlapPhases {
    /** From the up's start until the first verifier's Deployment changes on the server. */
    beforeWave1Ms: number;
    /** First verifier Deployment changed -> the last verifier's roll-out done (old pods gone). */
    wave1Ms: number;
    /** Last verifier done -> the presenter's Deployment changes. */
    betweenWavesMs: number;
    /** Presenter Deployment changed -> its roll-out done. */
    wave2Ms: number;
    /** Presenter done -> the last Secret object the up deletes (the replaced g1 objects) is gone. */
    cleanupMs: number;
    /** Then until the up returns (the ledger, state, the CLI's exit, the Automation API's own reads). */
    afterMs: number;
}

export type RolloutRowKey = "overlap" | "noChange" | "single";

export interface RolloutRow {
    key: RolloutRowKey;
    measurement: string;
    medianMs: number;
    samples: number[];
}

export type RolloutFigure =
    | {
          cluster: string;
          /** Whether the bench started the cluster (and stopped it afterwards). */
          startedCluster: boolean;
          replicas: number;
          repeats: number;
          rows: RolloutRow[];
          /** 2 x the single roll-out's median. */
          floorMs: number;
          overlapPerFloor: number;
          /** (overlap up - no-change up) / floor. */
          overheadPerFloor: number;
          /** Deployments the overlap up rolled (checked: the verifiers and the presenter). */
          rolled: string[];
          /** Medians over the repeats. */
          phases: OverlapPhases;
          phaseSamples: OverlapPhases[];
      }
    | { skipped: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The events of one Deployment's pods and ReplicaSets, and when its roll-out started and finished on the server. */
function rolloutSpan(
    events: ServerEvent[],
    afterRv: number,
    deployment: string,
    newRs: string,
    replicas: number,
): { changedAt: number; doneAt: number } {
    const before = events.filter((e) => e.kind === "Deployment" && e.obj.name === deployment && e.rv <= afterRv).pop();
    const changed = events.find(
        (e) =>
            e.kind === "Deployment" &&
            e.obj.name === deployment &&
            e.rv > afterRv &&
            (e.obj.generation ?? 0) > (before?.obj.generation ?? 0),
    );
    if (!changed) throw new Error(`figure 6: ${deployment}'s Deployment did not change on the server`);
    const available = availableRv(events, newRs, replicas);
    if (available === undefined) throw new Error(`figure 6: ${deployment}'s new ReplicaSet ${newRs} never became available`);
    const availableAt = events.find((e) => e.rv === available && e.kind === "ReplicaSet")!.at;
    // The last old pod removed by the server (the program's wait ends only then).
    const oldGone = events
        .filter(
            (e) => e.kind === "Pod" && e.type === "DELETED" && e.rv > afterRv && e.obj.labels.app === deployment && e.obj.owner !== newRs,
        )
        .map((e) => e.at);
    return { changedAt: changed.at, doneAt: Math.max(availableAt, ...oldGone) };
}

/**
 * One roll-out alone: a pod-template annotation patched, then polled (100 ms)
 * until the roll-out is done by the program's rule (rolloutState with pods).
 */
async function timeSingleRollout(kc: KubeConfig, namespace: string, name: string, n: number): Promise<number> {
    const { KubernetesObjectApi, PatchStrategy } = await import("@kubernetes/client-node");
    const api = KubernetesObjectApi.makeApiClient(kc);
    const ref = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace } };
    const patch: KubernetesObject & { spec: unknown } = {
        ...ref,
        spec: { template: { metadata: { annotations: { "bench.titan-secrets.io/restart": `${Date.now()}-${n}` } } } },
    };
    const start = performance.now();
    const patched = await api.patch(patch, undefined, undefined, "titan-bench", undefined, PatchStrategy.StrategicMergePatch);
    const generation = patched.metadata?.generation ?? 0;
    const deadline = Date.now() + 180_000;
    for (;;) {
        const obj = (await api.read<KubernetesObject>(ref)) as WorkloadObject;
        let state = rolloutState(obj, generation);
        if (state.state === "done") {
            const pods = await api.list<KubernetesObject>(
                "v1",
                "Pod",
                namespace,
                undefined,
                undefined,
                undefined,
                undefined,
                `app=${name}`,
            );
            state = rolloutState(obj, generation, pods.items as PodObject[]);
        }
        if (state.state === "done") return performance.now() - start;
        if (state.state === "failed") throw new Error(`figure 6: the roll-out of ${name} failed: ${state.reason}`);
        if (Date.now() > deadline) throw new Error(`figure 6: the roll-out of ${name} did not finish within 180 s: ${state.progress}`);
        await sleep(100);
    }
}

/** A fresh LiveProject on the bench's cluster (LiveProject.create finds its cluster through TITAN_TEST_CLUSTER). */
async function liveProjectOn(cluster: string, replicas: number): Promise<LiveProject> {
    const saved = process.env.TITAN_TEST_CLUSTER;
    process.env.TITAN_TEST_CLUSTER = cluster;
    try {
        return await LiveProject.create("bench-rollout", { replicas });
    } finally {
        if (saved === undefined) delete process.env.TITAN_TEST_CLUSTER;
        else process.env.TITAN_TEST_CLUSTER = saved;
    }
}

interface RepeatResult {
    overlapMs: number;
    noChangeMs: number;
    singleMs: number[];
    rolled: string[];
    phases: OverlapPhases;
}

async function oneRepeat(o: RolloutOptions, repeat: number, progress?: (line: string) => void): Promise<RepeatResult> {
    const live = await liveProjectOn(o.cluster, o.replicas);
    const where = `namespace ${live.namespace}, project ${live.project.dir}`;
    try {
        const first = await live.project.up();
        if (first.error)
            throw new Error(`figure 6: the first up (stable g1) failed (${where}): ${first.error.message}\n${first.output.slice(-2000)}`);
        progress?.(`figure 6: repeat ${repeat + 1}: first up (stable g1) done in ${live.namespace}`);

        // The fixed cost: an up with nothing to change.
        await live.log.sync();
        let mark = live.log.mark();
        let start = performance.now();
        const same = await live.project.up();
        const noChangeMs = performance.now() - start;
        if (same.error) throw new Error(`figure 6: the no-change up failed (${where}): ${same.error.message}\n${same.output.slice(-2000)}`);
        await live.log.sync();
        const rolledBySame = newReplicaSets(live.log.sorted(), mark);
        if (rolledBySame.length > 0)
            throw new Error(`figure 6: the no-change up rolled ${rolledBySame.map((r) => r.deployment).join(", ")} (${where})`);

        const singleMs: number[] = [];
        const single = async (n: number) => singleMs.push(await timeSingleRollout(live.kc, live.namespace, SINGLE, n));
        const half = Math.ceil(o.singles / 2);
        for (let i = 0; i < half; i++) await single(i);

        // The overlap up: both verifiers, then the presenter.
        await live.log.sync();
        mark = live.log.mark();
        live.setHmac(2, "overlap");
        const wallStart = Date.now();
        start = performance.now();
        const overlap = await live.project.up();
        const overlapMs = performance.now() - start;
        const wallEnd = wallStart + overlapMs;
        if (overlap.error)
            throw new Error(`figure 6: the overlap up failed (${where}): ${overlap.error.message}\n${overlap.output.slice(-2000)}`);
        await live.log.sync();
        const events = live.log.sorted();
        const created = newReplicaSets(events, mark);
        const rolled = created.map((r) => r.deployment).sort();
        const want = [HMAC_PRESENTER, ...HMAC_VERIFIERS].sort();
        if (JSON.stringify(rolled) !== JSON.stringify(want))
            throw new Error(
                `figure 6: the overlap up created ReplicaSets for ${rolled.join(", ")}; expected one each for ${want.join(", ")} (${where})`,
            );
        const presenterRs = created.find((r) => r.deployment === HMAC_PRESENTER)!;
        const spans = new Map(created.map((r) => [r.deployment, rolloutSpan(events, mark, r.deployment, r.name, o.replicas)]));
        for (const v of HMAC_VERIFIERS) {
            const rs = created.find((r) => r.deployment === v)!;
            const available = availableRv(events, rs.name, o.replicas)!;
            if (available > presenterRs.rv)
                throw new Error(
                    `figure 6: ${HMAC_PRESENTER}'s new ReplicaSet (rv ${presenterRs.rv}) came before ${v} was available (rv ${available}) (${where})`,
                );
        }
        const ledger = (await live.ledger())["titan-hmac"];
        if (ledger?.generation !== 2 || ledger.stage !== "overlap")
            throw new Error(`figure 6: the ledger after the overlap up has titan-hmac at ${JSON.stringify(ledger)}`);
        const verifiers = HMAC_VERIFIERS.map((v) => spans.get(v)!);
        const presenter = spans.get(HMAC_PRESENTER)!;
        const wave1Start = Math.min(...verifiers.map((s) => s.changedAt));
        const wave1End = Math.max(...verifiers.map((s) => s.doneAt));
        const deletedSecrets = events.filter((e) => e.kind === "Secret" && e.type === "DELETED" && e.rv > mark).map((e) => e.at);
        const cleanedUp = Math.max(presenter.doneAt, ...deletedSecrets);
        const phases: OverlapPhases = {
            beforeWave1Ms: wave1Start - wallStart,
            wave1Ms: wave1End - wave1Start,
            betweenWavesMs: presenter.changedAt - wave1End,
            wave2Ms: presenter.doneAt - presenter.changedAt,
            cleanupMs: cleanedUp - presenter.doneAt,
            afterMs: wallEnd - cleanedUp,
        };

        for (let i = half; i < o.singles; i++) await single(i);
        progress?.(`figure 6: repeat ${repeat + 1} of ${o.repeats} done`);
        return { overlapMs, noChangeMs, singleMs, rolled, phases };
    } finally {
        await live.destroy();
    }
}

export async function figureRollout(o: RolloutOptions, progress?: (line: string) => void): Promise<RolloutFigure> {
    const missing = clusterMissing() ?? engineMissing();
    if (missing) return { skipped: `figure 6 skipped: ${missing}` };
    const dir = clusterDir(o.cluster);
    const probe: Cluster = { name: o.cluster, dir, kubeconfig: join(dir, "kubeconfig"), context: `titan-${o.cluster}` };
    const wasRunning = await clusterCommand(probe, "status").then(
        () => true,
        () => false,
    );
    // Started (and marked for the test suite's teardown, should this process die) when not running.
    const cluster = await ensureCluster(o.cluster);
    if (!wasRunning) progress?.(`figure 6: started cluster ${o.cluster}`);
    try {
        const repeats: RepeatResult[] = [];
        for (let i = 0; i < o.repeats; i++) repeats.push(await oneRepeat(o, i, progress));
        const overlap = repeats.map((r) => r.overlapMs);
        const noChange = repeats.map((r) => r.noChangeMs);
        const single = repeats.flatMap((r) => r.singleMs);
        const rows: RolloutRow[] = [
            {
                key: "overlap",
                measurement: `overlap up (titan-hmac stable g1 -> overlap g2: ${HMAC_VERIFIERS.join(" + ")}, then ${HMAC_PRESENTER})`,
                medianMs: median(overlap),
                samples: overlap,
            },
            {
                key: "noChange",
                measurement: "no-change up (same config again: engine + program + providers)",
                medianMs: median(noChange),
                samples: noChange,
            },
            {
                key: "single",
                measurement: `single roll-out alone (${SINGLE}, pod-template patch until old pods are gone)`,
                medianMs: median(single),
                samples: single,
            },
        ];
        const floorMs = 2 * rows[2].medianMs;
        const phaseKeys = Object.keys(repeats[0].phases) as (keyof OverlapPhases)[];
        return {
            cluster: o.cluster,
            startedCluster: !wasRunning,
            replicas: o.replicas,
            repeats: o.repeats,
            rows: rows.map((r) => ({ ...r, samples: r.samples.map((x) => Math.round(x)) })),
            floorMs,
            overlapPerFloor: rows[0].medianMs / floorMs,
            overheadPerFloor: (rows[0].medianMs - rows[1].medianMs) / floorMs,
            rolled: repeats[0].rolled,
            phases: Object.fromEntries(phaseKeys.map((k) => [k, median(repeats.map((r) => r.phases[k]))])) as unknown as OverlapPhases,
            phaseSamples: repeats.map((r) => r.phases),
        };
    } finally {
        if (!wasRunning && o.stopStarted) {
            await clusterCommand(cluster, "down");
            rmSync(join(cluster.dir, STARTED_BY_TESTS), { force: true });
            progress?.(`figure 6: stopped cluster ${o.cluster}`);
        }
    }
}
