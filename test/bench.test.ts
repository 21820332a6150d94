// The structural figures of `npm run bench` (figures 1, 2 and 7), asserted
// exactly on small fixed fleets, so the numbers the bench prints are the
// model's behaviour and not an accident of the generator. No timings here:
// figures 3 and 4 are only checked for shape (the baseline declares the same
// custom resources as the program), never for speed.

import { describe, expect, it } from "vitest";
import { viewOf } from "../model";
import {
    ROTATION_STEPS,
    countRotation,
    longestChain,
    minimumRestarts,
    mustHold,
    randomBackground,
    restartFigure,
    waveFigure,
    waveRow,
} from "../bench/figures";
import { Fleet, Point, fleetConfig, generateFleet } from "../bench/fleet";
import { CLUSTER_GRID, clusterFigure, clusterRow } from "../bench/clusters";
import { baselineProgram, benchConfigOf, exchangeKeyValues, prodConfigForEngine, rawOf, testExchangeKeys } from "../bench/engine";
import { countsOf, recordTitanGraph, replayGraph, runBaseline, runTitan } from "../bench/mockRun";
import { scaleScenario } from "../bench/scale";
import { T, byType, one, runProgram } from "./support/mocks";

const stepNamed = (kind: string) => ROTATION_STEPS.find((s) => s.kind === kind)!;

describe("figure 1: restarts per rotation step", () => {
    // a, b verify s1 and c presents it; c verifies s2 and d, e present it; f consumes nothing.
    const fleet: Fleet = {
        services: ["a", "b", "c", "d", "e", "f"],
        secrets: [
            { name: "s1", verifiers: ["a", "b"], presenters: ["c"], envPrefix: "S1" },
            { name: "s2", verifiers: ["c"], presenters: ["d", "e"], envPrefix: "S2" },
        ],
    };
    // s2 sits in overlap (already applied) while s1 rotates: it must restart nobody.
    const background = (): Point => ({ stage: "overlap", generation: 2 });
    const s1 = fleet.secrets[0];

    it.each([
        ["stable->overlap", ["a", "b", "c"]],
        ["overlap->stable", ["a", "b"]],
        ["overlap->revert", ["c"]],
        ["revert->stable", ["a", "b"]],
        ["stable->compromised", ["a", "b", "c"]],
    ])("%s of s1 restarts exactly %j, the hand-computed minimum", (kind, expected) => {
        const c = countRotation(fleet, background, s1, stepNamed(kind));
        expect(c.program).toEqual(expected);
        expect(c.minimum).toEqual(expected);
        expect(c.runbook).toBe(6);
        expect(c.reloader).toBe(3);
    });

    it("the minimum's stage table is README's, and agrees with the model's views", () => {
        const points: Point[] = [
            { stage: "stable", generation: 3 },
            { stage: "overlap", generation: 3 },
            { stage: "revert", generation: 3 },
            { stage: "compromised", generation: 3 },
        ];
        expect(points.map((p) => [mustHold(p, "verifier"), mustHold(p, "presenter")])).toEqual([
            [[3], [3]],
            [[3, 2], [3]],
            [[3, 2], [2]],
            [[3], [3]],
        ]);
        for (const p of points) {
            const v = viewOf(p, (g) => `k${g}`);
            expect([v.verifier.generations, v.presenter.generations]).toEqual([mustHold(p, "verifier"), mustHold(p, "presenter")]);
        }
        expect(minimumRestarts(s1, stepNamed("overlap->revert"))).toEqual(["c"]);
    });

    describe("a seeded fleet", () => {
        const fleet = generateFleet({ services: 8, secrets: 3, seed: 42, verifiers: [1, 3], presenters: [1, 3] });

        it("is reproducible: the seed fixes the consumer sets", () => {
            expect(fleet.secrets.map((s) => [s.name, s.verifiers, s.presenters])).toEqual([
                ["hmac-0001", ["svc-0006", "svc-0007"], ["svc-0002", "svc-0004"]],
                ["hmac-0002", ["svc-0007"], ["svc-0004", "svc-0005"]],
                ["hmac-0003", ["svc-0001", "svc-0003", "svc-0006"], ["svc-0002", "svc-0004", "svc-0007"]],
            ]);
            expect(generateFleet({ services: 8, secrets: 3, seed: 42, verifiers: [1, 3], presenters: [1, 3] })).toEqual(fleet);
        });

        it("restarts equal the hand-computed minimum for every kind of step; the runbook restarts all 8 services every time", () => {
            // Verifiers 2 + 1 + 3 = 6, presenters 2 + 2 + 3 = 7, consumers 13, over 3 rotations.
            const rows = restartFigure(fleet, randomBackground(fleet, 43));
            expect(rows.map((r) => [r.step, r.minimum, r.program, r.runbook, r.reloader, r.extra, r.missing])).toEqual([
                ["stable->overlap", 13, 13, 24, 13, 0, 0],
                ["overlap->stable", 6, 6, 24, 13, 0, 0],
                ["overlap->revert", 7, 7, 24, 13, 0, 0],
                ["revert->stable", 6, 6, 24, 13, 0, 0],
                ["stable->compromised", 13, 13, 24, 13, 0, 0],
            ]);
        });

        it("a verifier of two secrets restarts for the one that changes only", () => {
            // svc-0007 verifies hmac-0001 and hmac-0002 and presents hmac-0003; the others sit at seeded stages.
            const bg = randomBackground(fleet, 43);
            expect([bg("hmac-0002"), bg("hmac-0003")]).toEqual([
                { stage: "overlap", generation: 2 },
                { stage: "revert", generation: 2 },
            ]);
            expect(countRotation(fleet, bg, fleet.secrets[0], stepNamed("overlap->stable")).program).toEqual(["svc-0006", "svc-0007"]);
        });
    });
});

describe("figure 2: waves and edges of an overlap", () => {
    it("N=3 verifiers, M=2 presenters: 2 waves, 6 ordered pairs (N x M), 8 declared edges (N + (N + M))", () => {
        expect(waveRow(3, 2)).toEqual({
            verifiers: 3,
            presenters: 2,
            changed: 5,
            waves: 2,
            depth: 2,
            edges: 6,
            barrier: 5,
            resourceEdges: 8,
        });
    });

    it("depth is 2 whatever N and M; ordered pairs are N x M, declared edges 2N + M", () => {
        const rows = waveFigure([1, 5, 20, 50]);
        expect(rows.map((r) => r.waves)).toEqual(Array(16).fill(2));
        expect(rows.map((r) => r.depth)).toEqual(Array(16).fill(2));
        expect(rows.map((r) => r.edges)).toEqual(rows.map((r) => r.verifiers * r.presenters));
        // The presenters' object -> each verifier (N), each Deployment -> its object (N + M).
        expect(rows.map((r) => r.resourceEdges)).toEqual(rows.map((r) => 2 * r.verifiers + r.presenters));
    });

    it("longestChain counts Deployments on the longest path", () => {
        expect(longestChain([], [])).toBe(0);
        expect(longestChain(["a"], [])).toBe(1);
        const e = (from: string, to: string) => ({ from, to, secret: "x" });
        expect(longestChain(["a", "b", "c", "d"], [e("b", "a"), e("c", "b"), e("d", "a")])).toBe(3);
    });

    it("the program's resource graph for N=3, M=2: the presenters' Secret object is already a barrier", async () => {
        const fleet: Fleet = {
            services: ["v1", "v2", "v3", "p1", "p2"],
            secrets: [{ name: "grid", verifiers: ["v1", "v2", "v3"], presenters: ["p1", "p2"], envPrefix: "TITAN_HMAC" }],
        };
        const stable = await runProgram(
            fleetConfig(fleet, () => ({ stage: "stable", generation: 1 })),
            {},
            new Date("2026-01-01T00:00:00Z"),
        );
        if (stable.error) throw stable.error;
        const run = await runProgram(
            fleetConfig(fleet, () => ({ stage: "overlap", generation: 2 })),
            stable.outputs!.ledger,
            new Date("2026-01-01T01:00:00Z"),
        );
        if (run.error) throw run.error;
        expect(one(run, T.secret, "grid-presenters").dependsOn.sort()).toEqual(["v1", "v2", "v3"]);
        // The presenters wait for the object only: it is the barrier (N + M ordering edges, not N x M).
        for (const p of ["p1", "p2"]) expect(one(run, T.deployment, p).dependsOn.sort()).toEqual(["grid-presenters"]);
        for (const v of ["v1", "v2", "v3"]) expect(one(run, T.deployment, v).dependsOn).toEqual(["grid-verifiers"]);
        const edges = [...byType(run, T.deployment), ...byType(run, T.secret)].reduce((n, r) => n + r.dependsOn.length, 0);
        expect(edges).toBe(waveRow(3, 2).resourceEdges);
    });
});

describe("figure 7: one key ring, N clusters x M services", () => {
    it("N=2 clusters, M=2 services (1 verifier + 1 presenter each): the fleet's ups, phases, waves and floor, against own keys", () => {
        const r = clusterRow(2, 2);
        // Ups: keys overlap, cluster-01 (verifiers, presenters held), cluster-02 (both), cluster-01 (presenters),
        // keys stable, cluster-01 and cluster-02 side by side (drop g1): 1 + 1 + 1 + 1 + 1 + 2 = 7 ups in 6 phases.
        expect(r.fleetPhases.map((p) => [p.label, p.waves, p.ups.map((u) => [u.stack, u.step, u.waves, u.rolled])])).toEqual([
            ["keys: overlap g2", 0, [["keys", "key ring: overlap", 0, 0]]],
            ["cluster-01: verifiers, presenters held", 1, [["cluster-01", "verifiers, presenters held", 1, 1]]],
            ["cluster-02: verifiers, then presenters", 2, [["cluster-02", "verifiers, then presenters", 2, 2]]],
            ["cluster-01: presenters", 1, [["cluster-01", "presenters", 1, 1]]],
            ["keys: stable g2", 0, [["keys", "key ring: stable", 0, 0]]],
            [
                "cluster-01..cluster-02: verifiers drop the old key",
                1,
                [
                    ["cluster-01", "verifiers drop the old key", 1, 1],
                    ["cluster-02", "verifiers drop the old key", 1, 1],
                ],
            ],
        ]);
        // Waves 0 + 1 + 2 + 1 + 0 + (1 + 1) = 6; floor 0 + 1 + 2 + 1 + 0 + 1 = 5 R; roll-outs: per cluster the verifier twice, the presenter once.
        expect(r.fleet).toEqual({ ups: 7, phases: 6, waves: 6, floor: 5, rolled: 6 });
        // Own keys: per cluster overlap (2 waves) then stable (1 wave), both clusters side by side.
        expect(r.independent).toEqual({ ups: 4, phases: 2, waves: 6, floor: 3, rolled: 6 });
        // Verifiers first: keys, both clusters held, both clusters' presenters, keys, both drop g1.
        expect(r.verifiersFirst).toEqual({ ups: 8, phases: 5, waves: 6, floor: 3, rolled: 6 });
        expect([r.upsPerIndependent, r.floorPerIndependent, r.verifiersFirstFloorPerIndependent]).toEqual([7 / 4, 5 / 3, 1]);
    });

    it("N=1: nothing to wait for, one up takes both steps (4 ups against 2, the same 3 R)", () => {
        const r = clusterRow(1, 2);
        expect(r.fleetPhases.map((p) => p.label)).toEqual([
            "keys: overlap g2",
            "cluster-01: verifiers, then presenters",
            "keys: stable g2",
            "cluster-01: verifiers drop the old key",
        ]);
        expect(r.fleet).toEqual({ ups: 4, phases: 4, waves: 3, floor: 3, rolled: 3 });
        expect(r.independent).toEqual({ ups: 2, phases: 2, waves: 3, floor: 3, rolled: 3 });
    });

    it("the whole grid follows the report's formulas: 3N + 1 ups, 6 phases, 5 R against 2N, 2 and 3 R; the same roll-outs", () => {
        const rows = clusterFigure(CLUSTER_GRID);
        expect(rows.map((r) => [r.clusters, r.services])).toEqual(
            CLUSTER_GRID.clusters.flatMap((n) => CLUSTER_GRID.services.map((m) => [n, m])),
        );
        for (const r of rows) {
            const n = r.clusters;
            const one = n === 1;
            expect(r.fleet, `N=${n} M=${r.services}`).toEqual({
                ups: 3 * n + 1,
                phases: one ? 4 : 6,
                waves: 3 * n,
                floor: one ? 3 : 5,
                rolled: n * (2 * r.verifiers + r.presenters),
            });
            expect(r.verifiersFirst).toEqual({
                ups: one ? 4 : 3 * n + 2,
                phases: one ? 4 : 5,
                waves: 3 * n,
                floor: 3,
                rolled: r.fleet.rolled,
            });
            expect(r.independent).toEqual({ ups: 2 * n, phases: 2, waves: 3 * n, floor: 3, rolled: r.fleet.rolled });
        }
    });

    it("refuses sizes it cannot split into verifiers and presenters", () => {
        expect(() => clusterRow(2, 3)).toThrow("figure 7: 3 services per cluster: an even number, at least 2");
        expect(() => clusterRow(0, 2)).toThrow("figure 7: 0 clusters: at least 1");
    });
});

describe("figures 3 and 4: shape only", () => {
    it("the scale scenario is an up the model accepts, with some secrets moving", () => {
        const sc = scaleScenario(100);
        expect([sc.services, sc.secrets]).toEqual([100, 40]);
        expect(sc.moving).toBeGreaterThan(0);
    });

    it("the baseline declares the same custom resources as the program", async () => {
        const sc = scaleScenario(10);
        const titan = await runTitan(sc.raw, sc.previous, sc.now);
        const base = await runBaseline(countsOf(titan));
        expect(countsOf(base)).toEqual(countsOf(titan));
        expect(countsOf(titan).deployment).toBe(10);
        expect(countsOf(titan).secret).toBe(2 * sc.secrets);
    });

    it("the same-graph baseline replays titan's components, parents, provider, inputs and dependsOn", async () => {
        const sc = scaleScenario(10);
        const { run, graph } = await recordTitanGraph(sc.raw, sc.previous, sc.now);
        const replay = await replayGraph(graph);
        // Everything titan registered but the ledger's StackReference (outside the program's root component).
        const { ["pulumi:pulumi:StackReference"]: ref, ...rest } = run.registered;
        expect(ref).toBe(1);
        expect(replay.registered).toEqual(rest);
        expect(graph.filter((n) => !n.custom).map((n) => n.type)).toEqual([
            "titan-secrets:index:TitanSecrets",
            ...Array(sc.secrets).fill("titan-secrets:hmac:HmacKeyRing"),
            ...Array(10).fill("titan-secrets:workload:TitanWorkload"),
        ]);
        const deployment = graph.find((n) => n.type === "kubernetes:apps/v1:Deployment")!;
        expect(graph[deployment.parent!].type).toBe("titan-secrets:workload:TitanWorkload");
        expect(graph[deployment.provider!].type).toBe("pulumi:providers:kubernetes");
        expect(deployment.dependsOn.map((i) => graph[i].type)).toContain("kubernetes:core/v1:Secret");
        expect((deployment.inputs.spec as any).template.spec.containers[0].env.length).toBeGreaterThan(0);
    });
});

describe("figure 4: the prod fleet's config for the engine", () => {
    it("without exchange keys the program refuses it (the cause of the old figure-4 failure); with the bench's test keys it evaluates", async () => {
        const { config, dropped } = prodConfigForEngine();
        expect(dropped).toContain("secrets.titan-db (rds: no pulumi-resource-aws)");
        const bare = await runProgram(rawOf(config), {}, new Date(), true);
        expect(bare.error?.message).toContain("Invalid stack config (4 problems)");
        expect(bare.error?.message).toContain("titan-secrets:exchangeKeys.bybit-main.g1.apiKey: found nothing");

        const keys = testExchangeKeys(config);
        expect(Object.keys(keys)).toEqual(["bybit-main", "mexc-main"]);
        expect(Object.keys(keys["bybit-main"])).toEqual(["g1"]);
        const values = exchangeKeyValues(keys);
        expect(values).toHaveLength(4);
        expect(new Set(values).size).toBe(4);
        // Fresh on every call: never a fixed value that could be mistaken for a real key.
        expect(exchangeKeyValues(testExchangeKeys(config))).not.toContain(values[0]);

        const run = await runTitan(benchConfigOf(config, keys), {}, new Date());
        expect(countsOf(run)).toEqual({ randomPassword: 2, secret: 6, deployment: 5, prometheusRule: 1 });
        // The baseline program declares the PrometheusRule too.
        expect(baselineProgram(countsOf(run))).toContain('kind: "PrometheusRule"');
    });
});
