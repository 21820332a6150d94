// The whole benchmark as a function: `runBench(options)` measures the figures
// asked for at the sizes given and returns the results; `benchReport` turns
// them into the Markdown that `npm run bench` prints. bench/run.ts is the
// command line (full sizes, or --smoke); test/bench.smoke.test.ts runs every
// figure at SMOKE sizes so the bench cannot break unseen.
//
// 1. Restarts per rotation step against the minimum (pure model).
// 2. Waves on the critical path and dependency edges of an overlap (pure model).
// 3. Evaluation time under Pulumi's mocks against a plain-resource baseline.
// 4. `pulumi preview` through the real engine against the same baseline
//    (skipped, with a note, when .engine/bin is missing).
// 5. A refused `pulumi preview` against an accepted one (bench/refusal.ts).
// 6. An overlap `pulumi up` on a live API server against its physical floor,
//    two single roll-outs (bench/rollout.ts; the local control plane of
//    scripts/cluster.sh, started and stopped again when not running).
// 7. One key ring across N clusters: the ups, phases and waves of a whole
//    rotation against each cluster rotating on its own (pure model,
//    bench/clusters.ts).

import { cpus, loadavg } from "node:os";
import { CLUSTER_GRID, ClusterGrid, ClusterRow, clusterFigure } from "./clusters";
import { benchConfigOf, engineMissing, previewTimer, prodConfigForEngine, rawOf, testExchangeKeys } from "./engine";
import { GRID, RestartRow, WaveRow, randomBackground, ratio, restartFigure, waveFigure } from "./figures";
import { FleetOptions, generateFleet } from "./fleet";
import { MockRun, ResourceCounts, TYPES, countsOf, customResources, recordTitanGraph, replayGraph, runBaseline, runTitan } from "./mockRun";
import { RefusalFigure, RefusalOptions, figureRefusal } from "./refusal";
import {
    EngineRow,
    ScaleRow,
    clusterPhases,
    clusterTable,
    engineTable,
    phaseTable,
    refusalTable,
    restartTable,
    rolloutTable,
    scaleTable,
    waveTable,
} from "./report";
import { RolloutFigure, RolloutOptions, figureRollout } from "./rollout";
import { scaleScenario } from "./scale";
import { collectGarbage, median } from "./timing";

export interface ScaleSize {
    services: number;
    /** Untimed runs of each program before the timed ones. */
    warmup: number;
    /** Timed runs of each program, interleaved. */
    repeats: number;
}

export interface BenchOptions {
    /** Which figures (1-7); all when absent. */
    figures?: readonly number[];
    /** Figure 1's fleet. */
    restartFleet: FleetOptions;
    /** Figure 1's seed for the stages of the secrets not being rotated. */
    backgroundSeed: number;
    /** Figure 2: N and M each take every value. */
    waveGrid: readonly number[];
    /** Figure 3's fleet sizes. */
    scale: readonly ScaleSize[];
    /** Figure 4: untimed and timed previews per program. */
    engine: { warmup: number; repeats: number };
    /** Figure 5: untimed and timed previews of each kind (accepted, refused). */
    refusal: RefusalOptions;
    /** Figure 6: fresh live projects, single roll-outs per project, pods per service, and the cluster's name. */
    rollout: RolloutOptions;
    /** Figure 7: N clusters and M services per cluster (even: half verifiers, half presenters) each take every value. */
    clusters: ClusterGrid;
    /** Progress lines (stderr in bench/run.ts). */
    progress?: (line: string) => void;
}

/** `npm run bench`: a few minutes on 2 cores. */
export const FULL: BenchOptions = {
    restartFleet: { services: 50, secrets: 20, seed: 20260101, verifiers: [1, 5], presenters: [1, 8] },
    backgroundSeed: 20260102,
    waveGrid: GRID,
    scale: [
        { services: 10, warmup: 3, repeats: 7 },
        { services: 100, warmup: 2, repeats: 5 },
        { services: 1000, warmup: 1, repeats: 3 },
    ],
    engine: { warmup: 1, repeats: 5 },
    refusal: { warmup: 1, repeats: 5 },
    rollout: { repeats: 3, singles: 2, replicas: 3, cluster: "bench", stopStarted: true },
    clusters: CLUSTER_GRID,
};

/**
 * `npm run bench -- --smoke` and test/bench.smoke.test.ts: every figure,
 * each code path once, at the smallest sizes (the numbers mean nothing).
 */
export const SMOKE: BenchOptions = {
    restartFleet: { services: 8, secrets: 3, seed: 42, verifiers: [1, 3], presenters: [1, 3] },
    backgroundSeed: 43,
    waveGrid: [1, 3],
    scale: [
        { services: 10, warmup: 0, repeats: 1 },
        { services: 100, warmup: 0, repeats: 1 },
    ],
    engine: { warmup: 0, repeats: 1 },
    refusal: { warmup: 0, repeats: 1 },
    // The live suites' cluster, in a namespace of its own; the test run's teardown stops it.
    rollout: { repeats: 1, singles: 1, replicas: 3, cluster: "test", stopStarted: false },
    // One cluster (no one to wait for) and two (one held up).
    clusters: { clusters: [1, 2], services: [2] },
};

export interface RestartFigure {
    fleet: FleetOptions;
    backgroundSeed: number;
    rows: (RestartRow & { programPerMinimum?: number; runbookPerMinimum?: number; reloaderPerMinimum?: number })[];
}

export interface ScaleFigureRow extends ScaleRow {
    warmup: number;
    /** Custom resources by type, titan's and the baseline's (all three programs' are checked equal on every run). */
    counts: ResourceCounts;
    baselineCounts: ResourceCounts;
}

export type EngineFigure =
    | {
          rows: EngineRow[];
          fleet: string;
          dropped: string[];
          /** Exchange test keys set as secret config in both throw-away stacks (values never recorded). */
          exchangeKeys: string[];
          counts: ResourceCounts;
          warmup: number;
      }
    | { skipped: string };

export interface BenchResults {
    generatedAt: string;
    node: string;
    cpus: number;
    loadAverageAtStart: number[];
    figures: {
        restarts?: RestartFigure;
        waves?: WaveRow[];
        scale?: ScaleFigureRow[];
        engine?: EngineFigure;
        refusal?: RefusalFigure;
        rollout?: RolloutFigure;
        clusters?: ClusterRow[];
    };
    totalSeconds: number;
}

function figureRestarts(o: BenchOptions): RestartFigure {
    const fleet = generateFleet(o.restartFleet);
    const rows = restartFigure(fleet, randomBackground(fleet, o.backgroundSeed));
    for (const r of rows) {
        if (r.extra !== 0 || r.missing !== 0)
            throw new Error(`figure 1: ${r.step}: the program restarts ${r.extra} workloads too many and misses ${r.missing}`);
    }
    return {
        fleet: o.restartFleet,
        backgroundSeed: o.backgroundSeed,
        rows: rows.map((r) => ({
            ...r,
            programPerMinimum: ratio(r.program, r.minimum),
            runbookPerMinimum: ratio(r.runbook, r.minimum),
            reloaderPerMinimum: ratio(r.reloader, r.minimum),
        })),
    };
}

function figureWaves(o: BenchOptions): WaveRow[] {
    const rows = waveFigure(o.waveGrid);
    for (const r of rows) {
        if (r.depth !== r.waves)
            throw new Error(`figure 2: N=${r.verifiers} M=${r.presenters}: ${r.waves} waves but a longest chain of ${r.depth}`);
    }
    return rows;
}

/**
 * Figure 7 checks itself while it runs the rotations (bench/clusters.ts): it
 * throws on a refused up, a held up that restarts a presenter, a presenter
 * in a wave before a verifier of its cluster, an early step the model
 * accepts, a wrong end state, or a fleet that restarts other Deployments
 * than the clusters rotating alone.
 */
function figureClusters(o: BenchOptions): ClusterRow[] {
    const rows = clusterFigure(o.clusters);
    o.progress?.(`figure 7: ${rows.length} (N, M) pairs done`);
    return rows;
}

const same = (a: ResourceCounts, b: ResourceCounts) => JSON.stringify(a) === JSON.stringify(b);

/** Registrations of a run, the stack itself left out. */
const registrationsOf = (r: MockRun) =>
    Object.entries(r.registered)
        .filter(([t]) => t !== TYPES.stack)
        .reduce((n, [, c]) => n + c, 0);

type Program = "titan" | "baseline" | "graph";

async function figureScale(o: BenchOptions): Promise<ScaleFigureRow[]> {
    const rows: ScaleFigureRow[] = [];
    for (const size of o.scale) {
        const sc = scaleScenario(size.services);
        // One untimed run records titan's graph (and its custom resources) for the baselines.
        const recorded = await recordTitanGraph(sc.raw, sc.previous, sc.now);
        const counts = countsOf(recorded.run);
        const samples: Record<Program, number[]> = { titan: [], baseline: [], graph: [] };
        const seen: Record<Program, { counts: ResourceCounts; registrations: number } | undefined> = {
            titan: undefined,
            baseline: undefined,
            graph: undefined,
        };
        const run = async (p: Program): Promise<number> => {
            collectGarbage();
            const r =
                p === "titan"
                    ? await runTitan(sc.raw, sc.previous, sc.now)
                    : p === "baseline"
                      ? await runBaseline(counts)
                      : await replayGraph(recorded.graph);
            const got = countsOf(r);
            if (!same(got, counts)) throw new Error(`figure 3: ${p} declared ${JSON.stringify(got)}, titan ${JSON.stringify(counts)}`);
            seen[p] = { counts: got, registrations: registrationsOf(r) };
            return r.ms;
        };
        const programs: Program[] = ["titan", "baseline", "graph"];
        for (let i = 0; i < size.warmup; i++) for (const p of programs) await run(p);
        // Rotate which program goes first, so none always runs on another's heap.
        for (let i = 0; i < size.repeats; i++) {
            for (let k = 0; k < programs.length; k++) {
                const p = programs[(i + k) % programs.length];
                samples[p].push(await run(p));
            }
        }
        rows.push({
            services: size.services,
            secrets: sc.secrets,
            moving: sc.moving,
            resources: customResources(counts),
            registrations: seen.titan!.registrations,
            baselineRegistrations: seen.baseline!.registrations,
            graphRegistrations: seen.graph!.registrations,
            warmup: size.warmup,
            repeats: size.repeats,
            titanMs: median(samples.titan),
            baselineMs: median(samples.baseline),
            graphMs: median(samples.graph),
            titanSamples: samples.titan,
            baselineSamples: samples.baseline,
            graphSamples: samples.graph,
            counts,
            baselineCounts: seen.baseline!.counts,
        });
        o.progress?.(`figure 3: ${size.services} services done`);
    }
    return rows;
}

async function figureEngine(o: BenchOptions): Promise<EngineFigure> {
    const missing = engineMissing();
    if (missing) return { skipped: `figure 4 skipped: ${missing}` };
    const { config, dropped } = prodConfigForEngine();
    const keys = testExchangeKeys(config);
    const raw = rawOf(config);
    // The custom resources the program declares for this config (counted under mocks; a first up, empty ledger).
    const counts = countsOf(await runTitan(benchConfigOf(config, keys), {}, new Date()));
    const fleet = `${Object.keys(raw.services as object).length} services, ${Object.keys(raw.secrets as object).join(", ")}`;
    const titan = await previewTimer(config, keys);
    try {
        const base = await previewTimer(config, keys, counts);
        try {
            const samples = { titan: [] as number[], baseline: [] as number[] };
            const creates = { titan: 0, baseline: 0 };
            const once = async (which: "titan" | "baseline", keep: boolean) => {
                const r = await (which === "titan" ? titan : base).preview();
                creates[which] = r.changes.create ?? 0;
                if (keep) samples[which].push(r.ms);
            };
            for (let i = 0; i < o.engine.warmup; i++) {
                await once("titan", false);
                await once("baseline", false);
            }
            for (let i = 0; i < o.engine.repeats; i++) {
                const order: ("titan" | "baseline")[] = i % 2 === 0 ? ["titan", "baseline"] : ["baseline", "titan"];
                for (const w of order) await once(w, true);
            }
            o.progress?.("figure 4 done");
            return {
                fleet,
                dropped,
                exchangeKeys: Object.entries(keys).flatMap(([s, gens]) => Object.keys(gens).map((g) => `${s}.${g}`)),
                counts,
                warmup: o.engine.warmup,
                rows: (["titan", "baseline"] as const).map((p) => ({
                    program: p === "titan" ? "titan-secrets (prod fleet, renderDir)" : "baseline",
                    resources: customResources(counts),
                    creates: creates[p],
                    repeats: o.engine.repeats,
                    medianMs: median(samples[p]),
                    samples: samples[p],
                })),
            };
        } finally {
            base.destroy();
        }
    } finally {
        titan.destroy();
    }
}

/** Measures the figures asked for at the sizes given. Throws when a figure's own check fails. */
export async function runBench(o: BenchOptions): Promise<BenchResults> {
    const started = performance.now();
    const want = (n: number) => o.figures === undefined || o.figures.includes(n);
    const results: BenchResults = {
        generatedAt: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
        figures: {},
        totalSeconds: 0,
    };
    if (want(1)) results.figures.restarts = figureRestarts(o);
    if (want(2)) results.figures.waves = figureWaves(o);
    if (want(3)) results.figures.scale = await figureScale(o);
    if (want(4)) results.figures.engine = await figureEngine(o);
    if (want(5)) results.figures.refusal = await figureRefusal(o.refusal, o.progress);
    if (want(6)) results.figures.rollout = await figureRollout(o.rollout, o.progress);
    if (want(7)) results.figures.clusters = figureClusters(o);
    results.totalSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
    return results;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** The Markdown tables `npm run bench` prints. */
export function benchReport(r: BenchResults): string {
    const out: string[] = [];
    const log = (s = "") => out.push(s);
    const f = r.figures;
    if (f.restarts) {
        const fl = f.restarts.fleet;
        log(`## 1. Restarts per rotation step, against the minimum`);
        log();
        log(
            `Fleet: ${fl.services} services, ${fl.secrets} hmac secrets (seed ${fl.seed}; ${fl.verifiers.join("-")} verifiers, ${fl.presenters.join("-")} presenters each); ` +
                `each secret takes each step once while the others sit at seeded background stages. Totals over the ${fl.secrets} rotations; ratio (restarts).`,
        );
        log();
        log(restartTable(f.restarts.rows, fl.services));
        log();
    }
    if (f.waves) {
        log(`## 2. Overlap across N verifiers and M presenters: waves and edges`);
        log();
        log(waveTable(f.waves));
        log();
    }
    if (f.scale) {
        log(`## 3. Evaluation under Pulumi's mocks, against two baselines`);
        log();
        log(
            "baseline: the same custom resources with trivial inputs, no components. same graph: titan's own resource graph, recorded from one of its runs " +
                "(components, parents, provider, input values, dependsOn), declared as plain values without the program's logic.",
        );
        log();
        log(scaleTable(f.scale));
        log();
        log(
            `Medians; untimed warm-up + timed runs of each program, interleaved: ${f.scale.map((s) => `${s.services} services ${s.warmup} + ${s.repeats}`).join(", ")}.`,
        );
        log();
    }
    if (f.engine) {
        const e = f.engine;
        log(`## 4. pulumi preview through the real engine (.engine/bin), prod fleet, against the same-size baseline`);
        log();
        if ("skipped" in e) log(e.skipped);
        else {
            log(
                `Fleet: Pulumi.prod.yaml with kubernetes.renderDir: ${e.fleet}.` +
                    (e.dropped.length > 0 ? ` Left out (plugins not in .engine/bin): ${e.dropped.join("; ")}.` : ""),
            );
            if (e.exchangeKeys.length > 0) {
                log(
                    `Exchange API keys (${e.exchangeKeys.join(", ")}): random test values set as secrets in both throw-away stacks (the prod stack's own are encrypted for its secrets provider).`,
                );
            }
            log();
            log(engineTable(e.rows));
            log();
            log(
                `Median of ${plural(e.rows[0].repeats, "preview")} each after ${plural(e.warmup, "warm-up")}, interleaved; each preview is a whole \`pulumi preview\` (CLI, language host, ts-node type-check, providers).`,
            );
        }
        log();
    }
    if (f.refusal) {
        const e = f.refusal;
        log(`## 5. A refused pulumi preview against an accepted one, through the real engine`);
        log();
        if ("skipped" in e) log(e.skipped);
        else {
            log(
                `A throw-away copy of the dev stack (its exchange keys' secure values included), after one up at the committed config (ledger: ${e.ledger}).`,
            );
            log();
            log(refusalTable(e.rows));
            log();
            log(`refused / accepted: ${e.refusedPerAccepted.toFixed(2)} (target: at most 1.50). The refusal, as the engine printed it:`);
            log();
            log(`    ${e.refusal}`);
            log();
            log(
                `Median of ${plural(e.rows[0].repeats, "preview")} of each kind after ${plural(e.warmup, "warm-up")}, interleaved; each a whole \`pulumi preview\`, its outcome checked on every run.`,
            );
        }
        log();
    }
    if (f.rollout) {
        const e = f.rollout;
        log(`## 6. An overlap pulumi up on a live API server, against its physical floor`);
        log();
        if ("skipped" in e) log(e.skipped);
        else {
            log(
                `Local control plane \`${e.cluster}\` (scripts/cluster.sh: kube-apiserver, etcd, kwok fake node${e.startedCluster ? "; started for this figure and stopped after it" : "; already running"}); ` +
                    `the dev stack's services at ${e.replicas} pods each, a fresh namespace and project per repeat. ` +
                    `Floor: two waves (verifiers, then the presenter), each as long as one roll-out alone.`,
            );
            log();
            log(rolloutTable(e));
            log();
            log(
                `overlap up / floor: ${e.overlapPerFloor.toFixed(2)}; (overlap up - no-change up) / floor: ${e.overheadPerFloor.toFixed(2)}.`,
            );
            log();
            log(`Where the overlap up's time goes (from the API server's record; medians over the repeats):`);
            log();
            log(phaseTable(e.phases));
            log();
            log(
                `Medians: ${plural(e.repeats, "fresh project")}, each with an untimed first up at stable g1, then one no-change up, ` +
                    `${plural(e.rows[2].samples.length / e.repeats, "single roll-out")} and one overlap up; every run checked against the server's record.`,
            );
        }
        log();
    }
    if (f.clusters && f.clusters.length > 0) {
        log(`## 7. One key ring, N clusters x M services: a whole rotation (overlap -> stable), against each cluster rotating alone`);
        log();
        log(
            "A key stack (fleet.role keys) and N workload stacks (fleet.role workloads), each cluster with M services, half verifiers and half presenters of the key; " +
                "every up run through the model (keyRingGuard, followKeyRing, planRotation), reading the other stacks' last ledgers; ups of one phase run side by side. " +
                "The fleet, fewest ups: the key ring's overlap; clusters 1..N-1 take the verifiers' step with their presenters held; cluster N both steps in one up (2 waves); " +
                "clusters 1..N-1 the presenters' step; the key ring's stable; every cluster drops the old key: 3N + 1 ups, 6 phases (4 for one cluster), " +
                "5 roll-out times R on the critical path (3 for one cluster), because cluster N's up sits between the others' two steps. " +
                "Verifiers first: every cluster's verifiers' step side by side (all held), then every presenters' step: one up more (3N + 2), back to 3 R. " +
                "Own keys: each cluster one stack (fleet.role all) with a key of its own, overlap (2 waves) then stable (1 wave), all side by side: 2N ups, 2 phases, 3 R. " +
                "All three restart the same Deployments (every verifier twice, every presenter once) in the same total of waves: the fleet splits them over more ups, " +
                "and the key ring's two ups roll nothing. " +
                "The catch: with own keys a cluster's signers use a key only its own verifiers hold, so a request signed in one cluster is refused in every other " +
                "(cross-cluster authentication breaks); one key ring is what the extra ups buy. Not counted: the key ring's minOverlapHours between its two ups, which both pay.",
        );
        log();
        log(clusterTable(f.clusters));
        log();
        const widest = f.clusters.reduce((a, b) => (b.clusters > a.clusters ? b : a));
        log(`The fleet's phases at N=${widest.clusters}, M=${widest.services} (slowest up of each, in R):`);
        log();
        log(clusterPhases(widest));
        log();
    }
    log(`Total bench time: ${r.totalSeconds.toFixed(1)} s on ${r.cpus} cores (load average at start ${r.loadAverageAtStart.join(", ")}).`);
    return out.join("\n");
}
