// The whole of `npm run bench` at the smallest sizes (bench/bench.ts SMOKE):
// every figure runs, figures 4 and 5 through the real engine, figure 6 on
// the local control plane too, so the bench cannot break unseen. Only the
// shape of the results is checked: rows present, ratios finite and
// positive, the baselines declaring what they should, the refused preview
// refused. Never speed: a timing is a number the bench reports, not a test
// result. Figures 4 to 6 run side by side (each on its own throw-away
// projects; figure 6 in a namespace of the live suites' cluster), which keeps this file near
// two minutes; their numbers mean nothing here anyway.

import { execFile, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BenchResults, SMOKE, benchReport, runBench } from "../bench/bench";
import { ROTATION_STEPS } from "../bench/figures";
import { customResources } from "../bench/mockRun";
import { REFUSAL } from "../bench/refusal";
import { SINGLE } from "../bench/rollout";
import { engineMissing } from "../harness/engine";
import { CLUSTER_SCRIPT, clusterMissing } from "../harness/cluster";
import { HMAC_PRESENTER, HMAC_VERIFIERS } from "../harness/live";
import { REPO } from "../harness/stackFiles";

const finitePositive = (x: number) => Number.isFinite(x) && x > 0;
const results: Partial<BenchResults["figures"]> = {};

describe("npm run bench, every figure at the smallest sizes (shape only)", () => {
    it("figure 1: a row per rotation step; the program restarts exactly the minimum, the runbook every service", async () => {
        const r = await runBench({ ...SMOKE, figures: [1] });
        const f = r.figures.restarts!;
        results.restarts = f;
        expect(Object.keys(r.figures)).toEqual(["restarts"]);
        expect(f.rows.map((row) => row.step)).toEqual(ROTATION_STEPS.map((s) => s.kind));
        for (const row of f.rows) {
            expect(row.rotations).toBe(SMOKE.restartFleet.secrets);
            expect(row.minimum).toBeGreaterThan(0);
            expect([row.program, row.extra, row.missing]).toEqual([row.minimum, 0, 0]);
            expect(row.runbook).toBe(SMOKE.restartFleet.services * SMOKE.restartFleet.secrets);
            expect(row.reloader).toBeGreaterThanOrEqual(row.minimum);
            for (const x of [row.programPerMinimum!, row.runbookPerMinimum!, row.reloaderPerMinimum!])
                expect(finitePositive(x), String(x)).toBe(true);
            expect(row.programPerMinimum).toBe(1);
        }
    });

    it("figure 2: a row per (N, M); 2 waves, N x M edges against an N + M barrier", async () => {
        const r = await runBench({ ...SMOKE, figures: [2] });
        const rows = r.figures.waves!;
        results.waves = rows;
        expect(rows.map((w) => [w.verifiers, w.presenters])).toEqual(SMOKE.waveGrid.flatMap((n) => SMOKE.waveGrid.map((m) => [n, m])));
        for (const w of rows) {
            expect([w.waves, w.depth]).toEqual([2, 2]);
            expect([w.edges, w.barrier, w.changed]).toEqual([
                w.verifiers * w.presenters,
                w.verifiers + w.presenters,
                w.verifiers + w.presenters,
            ]);
        }
    });

    it("figure 3: a row per size under mocks; both baselines declared titan's custom resources; ratios finite", async () => {
        const r = await runBench({ ...SMOKE, figures: [3] });
        const rows = r.figures.scale!;
        results.scale = rows;
        expect(rows.map((s) => s.services)).toEqual(SMOKE.scale.map((s) => s.services));
        for (const s of rows) {
            expect(s.baselineCounts).toEqual(s.counts);
            expect(s.counts.deployment).toBe(s.services);
            expect(s.counts.secret).toBe(2 * s.secrets);
            expect(s.counts.randomPassword).toBe(s.secrets + s.moving);
            expect(s.resources).toBe(customResources(s.counts));
            // Components and the ledger's StackReference come on top of the custom resources;
            // the replayed graph is titan's without the StackReference.
            expect(s.registrations).toBeGreaterThan(s.resources);
            expect(s.baselineRegistrations).toBe(s.resources);
            expect(s.graphRegistrations).toBe(s.registrations - 1);
            expect([s.titanSamples.length, s.baselineSamples.length, s.graphSamples.length]).toEqual([s.repeats, s.repeats, s.repeats]);
            for (const x of [s.titanMs, s.baselineMs, s.graphMs, s.titanMs / s.baselineMs, s.titanMs / s.graphMs])
                expect(finitePositive(x), String(x)).toBe(true);
        }
    });

    it("figure 7: a row per (N, M); the fleet's ups and floor against each cluster rotating alone; the same roll-outs", async () => {
        const r = await runBench({ ...SMOKE, figures: [7] });
        const rows = r.figures.clusters!;
        results.clusters = rows;
        expect(Object.keys(r.figures)).toEqual(["clusters"]);
        expect(rows.map((c) => [c.clusters, c.services])).toEqual(
            SMOKE.clusters.clusters.flatMap((n) => SMOKE.clusters.services.map((m) => [n, m])),
        );
        for (const c of rows) {
            expect(c.fleet.ups).toBeGreaterThan(c.independent.ups);
            expect(c.fleet.floor).toBeGreaterThanOrEqual(c.independent.floor);
            expect([c.fleet.rolled, c.verifiersFirst.rolled]).toEqual([c.independent.rolled, c.independent.rolled]);
            for (const x of [c.upsPerIndependent, c.floorPerIndependent, c.verifiersFirstFloorPerIndependent])
                expect(finitePositive(x), String(x)).toBe(true);
        }
    });

    // A whole `pulumi preview` of each program: about a minute on a busy 2-core machine.
    it.concurrent(
        "figure 4: both programs previewed through the real engine, the prod fleet with exchange test keys",
        { timeout: 300_000 },
        async ({ expect }) => {
            const missing = engineMissing();
            if (missing) throw new Error(missing);
            const r = await runBench({ ...SMOKE, figures: [4] });
            const f = r.figures.engine!;
            results.engine = f;
            if ("skipped" in f) throw new Error(f.skipped);
            expect(f.rows.map((row) => row.program)).toEqual(["titan-secrets (prod fleet, renderDir)", "baseline"]);
            expect(f.exchangeKeys).toEqual(["bybit-main.g1", "mexc-main.g1"]);
            expect(f.counts.deployment).toBe(5);
            expect(f.counts.prometheusRule).toBe(1);
            const [titan, baseline] = f.rows;
            expect(titan.resources).toBe(customResources(f.counts));
            expect(baseline.resources).toBe(titan.resources);
            // The baseline creates its custom resources, the provider and the stack; titan adds its components.
            expect(baseline.creates).toBe(baseline.resources + 1);
            expect(titan.creates).toBeGreaterThan(baseline.creates);
            for (const row of f.rows) {
                expect(row.samples).toHaveLength(SMOKE.engine.repeats);
                expect(finitePositive(row.medianMs), String(row.medianMs)).toBe(true);
            }
            expect(finitePositive(titan.medianMs / baseline.medianMs)).toBe(true);
            // The test keys' values are never recorded.
            expect(JSON.stringify(r)).not.toMatch(/bench-test-[0-9a-f]/);
        },
    );

    // One up and two previews of the dev stack: about 40 s.
    it.concurrent(
        "figure 5: the refused preview was refused by the stage check, the accepted one changed nothing",
        { timeout: 300_000 },
        async ({ expect }) => {
            const missing = engineMissing();
            if (missing) throw new Error(missing);
            const r = await runBench({ ...SMOKE, figures: [5] });
            const f = r.figures.refusal!;
            results.refusal = f;
            expect(Object.keys(r.figures)).toEqual(["refusal"]);
            if ("skipped" in f) throw new Error(f.skipped);
            expect(f.ledger).toBe("titan-hmac stable g1");
            expect(f.rows.map((row) => row.preview)).toEqual(["accepted", "refused"]);
            const [accepted, refused] = f.rows;
            expect(accepted.outcome).toMatch(/^succeeded, \d+ unchanged, no changes$/);
            expect(refused.outcome).toMatch(/^failed: /);
            expect(f.refusal).toContain(REFUSAL);
            expect(f.refusal).toContain("titan-secrets:secrets.titan-hmac.stage");
            for (const row of f.rows) {
                expect(row.samples).toHaveLength(SMOKE.refusal.repeats);
                expect(finitePositive(row.medianMs), String(row.medianMs)).toBe(true);
            }
            expect(finitePositive(f.refusedPerAccepted), String(f.refusedPerAccepted)).toBe(true);
            expect(f.refusedPerAccepted).toBeCloseTo(refused.medianMs / accepted.medianMs, 10);
        },
    );

    // A fresh namespace and project on the local control plane, four ups and a roll-out: about 80 s,
    // plus the cluster's start when it is not running. It fails, never skips, without the control plane.
    it.concurrent(
        "figure 6: the overlap up rolled the verifiers, then the presenter; floor, fixed cost and ratios present",
        { timeout: 400_000 },
        async ({ expect }) => {
            const missing = clusterMissing() ?? engineMissing();
            if (missing) throw new Error(missing);
            const r = await runBench({ ...SMOKE, figures: [6] });
            const f = r.figures.rollout!;
            results.rollout = f;
            expect(Object.keys(r.figures)).toEqual(["rollout"]);
            if ("skipped" in f) throw new Error(f.skipped);
            const o = SMOKE.rollout;
            expect([f.cluster, f.replicas, f.repeats]).toEqual([o.cluster, o.replicas, o.repeats]);
            expect(f.rows.map((row) => row.key)).toEqual(["overlap", "noChange", "single"]);
            expect(f.rows.map((row) => row.samples.length)).toEqual([o.repeats, o.repeats, o.repeats * o.singles]);
            expect(f.rows[2].measurement).toContain(SINGLE);
            expect(f.rolled).toEqual([HMAC_PRESENTER, ...HMAC_VERIFIERS].sort());
            for (const row of f.rows) expect(finitePositive(row.medianMs), `${row.key}: ${row.medianMs}`).toBe(true);
            expect(f.floorMs).toBe(2 * f.rows[2].medianMs);
            for (const x of [f.floorMs, f.overlapPerFloor, f.overheadPerFloor]) expect(finitePositive(x), String(x)).toBe(true);
            expect(f.phaseSamples).toHaveLength(o.repeats);
            for (const [k, x] of Object.entries(f.phases)) expect(Number.isFinite(x), `${k}: ${x}`).toBe(true);
            expect(Object.keys(f.phases)).toEqual(["beforeWave1Ms", "wave1Ms", "betweenWavesMs", "wave2Ms", "cleanupMs", "afterMs"]);
            for (const x of [f.phases.beforeWave1Ms, f.phases.wave1Ms, f.phases.wave2Ms]) expect(finitePositive(x), String(x)).toBe(true);
            // The shared cluster stays for the live suites; the run's teardown stops it if the run started it.
            expect(spawnSync("bash", [CLUSTER_SCRIPT, "--name", o.cluster, "status"]).status).toBe(0);
        },
    );

    it("the report prints every figure that ran", () => {
        const report = benchReport({
            generatedAt: "",
            node: process.version,
            cpus: 2,
            loadAverageAtStart: [0, 0, 0],
            figures: results,
            totalSeconds: 0,
        });
        for (const [key, title] of [
            ["restarts", "## 1. "],
            ["waves", "## 2. "],
            ["scale", "## 3. "],
            ["engine", "## 4. "],
            ["refusal", "## 5. "],
            ["rollout", "## 6. "],
            ["clusters", "## 7. "],
        ] as const) {
            if (results[key]) expect(report).toContain(title);
        }
        expect(report).not.toMatch(/NaN|Infinity|undefined/);
    });

    it("the command line: --smoke with --figures runs those figures; a bad argument is a usage error (exit 2)", async () => {
        const tsx = join(REPO, "node_modules", ".bin", "tsx");
        const run = (args: string[]) =>
            new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
                execFile(tsx, [join(REPO, "bench", "run.ts"), ...args], { cwd: REPO }, (e, stdout, stderr) =>
                    resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr }),
                );
            });
        const ok = await run(["--smoke", "--figures=1,2"]);
        expect(ok.code, ok.stderr).toBe(0);
        expect(ok.stdout).toContain("## 1. ");
        expect(ok.stdout).toContain("## 2. ");
        expect(ok.stdout).not.toContain("## 3. ");
        expect(ok.stdout).not.toContain("Wrote ");
        const bad = await run(["--figures=8"]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain("usage: npm run bench");
    });
});
