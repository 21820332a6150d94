// `npm run bench`: four figures, each a ratio against a baseline measured in
// the same run; prints Markdown tables and writes bench/results.json
// (git-ignored). Figures 1 and 2 are structural (exact, machine-independent;
// test/bench.test.ts asserts them on small fleets); 3 and 4 are timings.
//
//   npm run bench                      # everything (a few minutes on 2 cores)
//   npm run bench -- --figures=1,2     # only some figures
//
// 1. Restarts per rotation step against the minimum (pure model).
// 2. Waves on the critical path and dependency edges of an overlap (pure model).
// 3. Evaluation time under Pulumi's mocks against a plain-resource baseline.
// 4. `pulumi preview` through the real engine against the same baseline
//    (skipped, with a note, when .engine/bin is missing).

import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { benchConfigOf, engineMissing, previewTimer, prodConfigForEngine, rawOf, testExchangeKeys } from "./engine";
import { GRID, RestartRow, WaveRow, randomBackground, ratio, restartFigure, waveFigure } from "./figures";
import { FleetOptions, generateFleet } from "./fleet";
import { ResourceCounts, TYPES, countsOf, customResources, runBaseline, runTitan } from "./mockRun";
import { EngineRow, ScaleRow, engineTable, restartTable, scaleTable, waveTable } from "./report";
import { scaleScenario } from "./scale";
import { collectGarbage, median } from "./timing";

/** Figure 1's fleet: 50 services, 20 hmac secrets, random consumer sets. */
export const RESTART_FLEET: FleetOptions = { services: 50, secrets: 20, seed: 20260101, verifiers: [1, 5], presenters: [1, 8] };
export const BACKGROUND_SEED = 20260102;

/** Figure 3: sizes, and warm-up runs and timed repeats per size. */
const SCALE = [
    { services: 10, warmup: 3, repeats: 7 },
    { services: 100, warmup: 2, repeats: 5 },
    { services: 1000, warmup: 1, repeats: 3 },
];
/** Figure 4: previews per program after one warm-up each. */
const ENGINE_REPEATS = 5;

const log = (s = "") => process.stdout.write(`${s}\n`);
const progress = (s: string) => process.stderr.write(`  .. ${s}\n`);

function figureRestarts(): { fleet: FleetOptions; backgroundSeed: number; rows: (RestartRow & Record<string, unknown>)[] } {
    const fleet = generateFleet(RESTART_FLEET);
    const rows = restartFigure(fleet, randomBackground(fleet, BACKGROUND_SEED));
    for (const r of rows) {
        if (r.extra !== 0 || r.missing !== 0) throw new Error(`figure 1: ${r.step}: the program restarts ${r.extra} workloads too many and misses ${r.missing}`);
    }
    return {
        fleet: RESTART_FLEET,
        backgroundSeed: BACKGROUND_SEED,
        rows: rows.map((r) => ({
            ...r,
            programPerMinimum: ratio(r.program, r.minimum),
            runbookPerMinimum: ratio(r.runbook, r.minimum),
            reloaderPerMinimum: ratio(r.reloader, r.minimum),
        })),
    };
}

function figureWaves(): WaveRow[] {
    const rows = waveFigure(GRID);
    for (const r of rows) {
        if (r.depth !== r.waves) throw new Error(`figure 2: N=${r.verifiers} M=${r.presenters}: ${r.waves} waves but a longest chain of ${r.depth}`);
    }
    return rows;
}

async function figureScale(): Promise<ScaleRow[]> {
    const rows: ScaleRow[] = [];
    for (const size of SCALE) {
        const sc = scaleScenario(size.services);
        const titanSamples: number[] = [];
        const baselineSamples: number[] = [];
        let counts: ResourceCounts | undefined;
        let registrations = 0;
        const titan = async () => {
            collectGarbage();
            const r = await runTitan(sc.raw, sc.previous, sc.now);
            counts = countsOf(r);
            registrations = Object.entries(r.registered)
                .filter(([t]) => t !== TYPES.stack)
                .reduce((n, [, c]) => n + c, 0);
            return r.ms;
        };
        const baseline = async () => {
            collectGarbage();
            const r = await runBaseline(counts!);
            const got = countsOf(r);
            if (JSON.stringify(got) !== JSON.stringify(counts)) throw new Error(`figure 3: baseline declared ${JSON.stringify(got)}, titan ${JSON.stringify(counts)}`);
            return r.ms;
        };
        for (let i = 0; i < size.warmup; i++) {
            await titan();
            await baseline();
        }
        // Alternate which program goes first, so neither always runs on the other's heap.
        for (let i = 0; i < size.repeats; i++) {
            if (i % 2 === 0) {
                titanSamples.push(await titan());
                baselineSamples.push(await baseline());
            } else {
                baselineSamples.push(await baseline());
                titanSamples.push(await titan());
            }
        }
        const c = counts!;
        rows.push({
            services: size.services,
            secrets: sc.secrets,
            moving: sc.moving,
            resources: customResources(c),
            registrations,
            repeats: size.repeats,
            titanMs: median(titanSamples),
            baselineMs: median(baselineSamples),
            titanSamples,
            baselineSamples,
        });
        progress(`figure 3: ${size.services} services done`);
    }
    return rows;
}

type EngineFigure = { rows: EngineRow[]; fleet: string; dropped: string[]; exchangeKeys: string[] } | { skipped: string };

async function figureEngine(): Promise<EngineFigure> {
    const missing = engineMissing();
    if (missing) return { skipped: `figure 4 skipped: ${missing}` };
    const { config, dropped } = prodConfigForEngine();
    const keys = testExchangeKeys(config);
    const raw = rawOf(config);
    // The custom resources the program declares for this config (counted under mocks; a first up, empty ledger).
    const counts = countsOf(await runTitan(benchConfigOf(config, keys), {}, new Date()));
    const fleet = `${Object.keys(raw.services as object).length} services, ${Object.keys(raw.secrets as object).join(", ")}`;
    const exchangeKeys = Object.entries(keys).flatMap(([s, gens]) => Object.keys(gens).map((g) => `${s}.${g}`));
    const titan = await previewTimer(config, keys);
    const base = await previewTimer(config, keys, counts).catch((e: unknown) => {
        titan.destroy();
        throw e;
    });
    try {
        const samples = { titan: [] as number[], baseline: [] as number[] };
        const creates = { titan: 0, baseline: 0 };
        const once = async (which: "titan" | "baseline", keep: boolean) => {
            const r = await (which === "titan" ? titan : base).preview();
            creates[which] = r.changes.create ?? 0;
            if (keep) samples[which].push(r.ms);
        };
        await once("titan", false);
        await once("baseline", false);
        for (let i = 0; i < ENGINE_REPEATS; i++) {
            const order: ("titan" | "baseline")[] = i % 2 === 0 ? ["titan", "baseline"] : ["baseline", "titan"];
            for (const w of order) await once(w, true);
        }
        progress("figure 4 done");
        return {
            fleet,
            dropped,
            exchangeKeys,
            rows: (["titan", "baseline"] as const).map((p) => ({
                program: p === "titan" ? "titan-secrets (prod fleet, renderDir)" : "baseline",
                resources: customResources(counts),
                creates: creates[p],
                repeats: ENGINE_REPEATS,
                medianMs: median(samples[p]),
                samples: samples[p],
            })),
        };
    } finally {
        titan.destroy();
        base.destroy();
    }
}

async function main(): Promise<void> {
    const started = performance.now();
    const only = process.argv.find((a) => a.startsWith("--figures="))?.slice("--figures=".length).split(",");
    const want = (n: number) => only === undefined || only.includes(String(n));
    const results: Record<string, unknown> = {
        generatedAt: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    };
    const figures: Record<string, unknown> = {};
    results.figures = figures;

    if (want(1)) {
        const f = figureRestarts();
        figures.restarts = f;
        log(`## 1. Restarts per rotation step, against the minimum`);
        log();
        log(`Fleet: ${f.fleet.services} services, ${f.fleet.secrets} hmac secrets (seed ${f.fleet.seed}; ${f.fleet.verifiers.join("-")} verifiers, ${f.fleet.presenters.join("-")} presenters each); ` +
            `each secret takes each step once while the others sit at seeded background stages. Totals over the ${f.fleet.secrets} rotations; ratio (restarts).`);
        log();
        log(restartTable(f.rows, f.fleet.services));
        log();
    }
    if (want(2)) {
        const rows = figureWaves();
        figures.waves = rows;
        log(`## 2. Overlap across N verifiers and M presenters: waves and edges`);
        log();
        log(waveTable(rows));
        log();
    }
    if (want(3)) {
        const rows = await figureScale();
        figures.scale = rows;
        log(`## 3. Evaluation under Pulumi's mocks (median of k runs after warm-up), against a baseline declaring the same custom resources`);
        log();
        log(scaleTable(rows));
        log();
    }
    if (want(4)) {
        const f = await figureEngine();
        figures.engine = f;
        log(`## 4. pulumi preview through the real engine (.engine/bin), prod fleet, against the same-size baseline`);
        log();
        if ("skipped" in f) log(f.skipped);
        else {
            log(`Fleet: Pulumi.prod.yaml with kubernetes.renderDir: ${f.fleet}.` + (f.dropped.length > 0 ? ` Left out (plugins not in .engine/bin): ${f.dropped.join("; ")}.` : ""));
            if (f.exchangeKeys.length > 0) {
                log(`Exchange API keys (${f.exchangeKeys.join(", ")}): random test values set as secrets in both throw-away stacks (the prod stack's own are encrypted for its secrets provider).`);
            }
            log();
            log(engineTable(f.rows));
            log();
            log(`Median of ${ENGINE_REPEATS} previews each after one warm-up, interleaved; each preview is a whole \`pulumi preview\` (CLI, language host, ts-node type-check, providers).`);
        }
        log();
    }

    const seconds = (performance.now() - started) / 1000;
    results.totalSeconds = Number(seconds.toFixed(1));
    const out = join(__dirname, "results.json");
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(`Total bench time: ${seconds.toFixed(1)} s on ${cpus().length} cores (load average at start ${(results.loadAverageAtStart as number[]).join(", ")}). Wrote ${out}.`);
}

main().then(
    () => process.exit(0),
    (e: unknown) => {
        process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exit(1);
    },
);
