// The printed tables (Markdown, so they paste into the README as they are).

import type { ClusterRow } from "./clusters";
import { RestartRow, WaveRow, ratio } from "./figures";
import type { RefusalRow } from "./refusal";
import type { OverlapPhases, RolloutFigure } from "./rollout";
import { ms } from "./timing";

export function table(head: string[], rows: (string | number)[][]): string {
    const cells = [head, ...rows.map((r) => r.map(String))];
    const width = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(width[i])).join(" | ")} |`;
    return [line(cells[0]), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.slice(1).map(line)].join("\n");
}

const fmtRatio = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(2));
const vsMin = (x: number, min: number) => `${fmtRatio(ratio(x, min))} (${x})`;

export function restartTable(rows: RestartRow[], services: number): string {
    return table(
        [
            "step",
            "rotations",
            "minimum",
            "titan-secrets / min",
            `runbook (all ${services}) / min`,
            "Reloader-style / min",
            "extra, missing",
        ],
        rows.map((r) => [
            r.step,
            r.rotations,
            r.minimum,
            vsMin(r.program, r.minimum),
            vsMin(r.runbook, r.minimum),
            vsMin(r.reloader, r.minimum),
            `${r.extra}, ${r.missing}`,
        ]),
    );
}

export function waveTable(rows: WaveRow[]): string {
    return table(
        [
            "N verifiers",
            "M presenters",
            "Deployments",
            "waves",
            "depth",
            "ordered pairs (N x M)",
            "barrier (N + M)",
            "pairs / barrier",
            "resource-graph edges",
        ],
        rows.map((r) => [
            r.verifiers,
            r.presenters,
            r.changed,
            r.waves,
            r.depth,
            r.edges,
            r.barrier,
            (r.edges / r.barrier).toFixed(2),
            r.resourceEdges,
        ]),
    );
}

export interface ScaleRow {
    services: number;
    secrets: number;
    moving: number;
    /** Custom resources, the same in all three programs. */
    resources: number;
    /** Everything titan-secrets registers (custom, components, the ledger's StackReference). */
    registrations: number;
    /** What the baselines register: the custom resources; titan's graph without its StackReference. */
    baselineRegistrations: number;
    graphRegistrations: number;
    repeats: number;
    titanMs: number;
    baselineMs: number;
    /** The second baseline: titan's recorded resource graph replayed (bench/mockRun.ts replayGraph). */
    graphMs: number;
    titanSamples: number[];
    baselineSamples: number[];
    graphSamples: number[];
}

export function scaleTable(rows: ScaleRow[]): string {
    return table(
        [
            "services",
            "secrets (moving)",
            "custom resources",
            "registrations (titan / baseline / graph)",
            "titan ms",
            "baseline ms",
            "same-graph ms",
            "titan / baseline",
            "titan / same graph",
            "titan t(n)/t(n/10)",
            "baseline t(n)/t(n/10)",
        ],
        rows.map((r, i) => {
            const prev = rows[i - 1];
            const growth = (a: number, b: number | undefined) => (b === undefined ? "-" : (a / b).toFixed(2));
            return [
                r.services,
                `${r.secrets} (${r.moving})`,
                r.resources,
                `${r.registrations} / ${r.baselineRegistrations} / ${r.graphRegistrations}`,
                ms(r.titanMs),
                ms(r.baselineMs),
                ms(r.graphMs),
                (r.titanMs / r.baselineMs).toFixed(2),
                (r.titanMs / r.graphMs).toFixed(2),
                growth(r.titanMs, prev?.titanMs),
                growth(r.baselineMs, prev?.baselineMs),
            ];
        }),
    );
}

export interface EngineRow {
    program: string;
    /** Custom resources (the same in both programs, with the Kubernetes provider). */
    resources: number;
    /** Resources the preview would create (custom, components and the stack). */
    creates: number;
    repeats: number;
    medianMs: number;
    samples: number[];
}

export function engineTable(rows: EngineRow[]): string {
    const base = rows.find((r) => r.program === "baseline")!;
    return table(
        ["program", "custom resources", "creates in preview", "preview ms (median)", "/ baseline"],
        rows.map((r) => [r.program, r.resources, r.creates, ms(r.medianMs), (r.medianMs / base.medianMs).toFixed(2)]),
    );
}

export function refusalTable(rows: RefusalRow[]): string {
    const accepted = rows.find((r) => r.preview === "accepted")!;
    return table(
        ["preview", "titan-hmac in the stack file", "outcome (checked every run)", "preview ms (median)", "/ accepted"],
        rows.map((r) => [r.preview, r.config, r.outcome, ms(r.medianMs), (r.medianMs / accepted.medianMs).toFixed(2)]),
    );
}

export function rolloutTable(f: Exclude<RolloutFigure, { skipped: string }>): string {
    const row = (key: string) => f.rows.find((r) => r.key === key)!;
    const [overlap, noChange, single] = [row("overlap"), row("noChange"), row("single")];
    const perFloor = (x: number) => (x / f.floorMs).toFixed(2);
    return table(
        ["measurement", "runs", "ms (median)", "/ floor"],
        [
            [overlap.measurement, overlap.samples.length, ms(overlap.medianMs), perFloor(overlap.medianMs)],
            [noChange.measurement, noChange.samples.length, ms(noChange.medianMs), perFloor(noChange.medianMs)],
            [single.measurement, single.samples.length, ms(single.medianMs), perFloor(single.medianMs)],
            ["floor: 2 x single roll-out (two waves)", "-", ms(f.floorMs), "1.00"],
            ["overlap up - no-change up", "-", ms(overlap.medianMs - noChange.medianMs), perFloor(overlap.medianMs - noChange.medianMs)],
        ],
    );
}

const PHASES: [keyof OverlapPhases, string][] = [
    ["beforeWave1Ms", "up started -> first verifier Deployment changed (engine, program, new Secret objects)"],
    ["wave1Ms", "wave 1: both verifiers roll (until their old pods are gone)"],
    ["betweenWavesMs", "last verifier done -> presenter Deployment changed (the wait's poll, presenters' Secret object)"],
    ["wave2Ms", "wave 2: the presenter rolls (until its old pods are gone)"],
    ["cleanupMs", "presenter done -> the replaced Secret objects deleted"],
    ["afterMs", "-> the up returned (ledger, state, the CLI's exit, the Automation API's reads)"],
];

export function phaseTable(p: OverlapPhases): string {
    const total = PHASES.reduce((n, [k]) => n + p[k], 0);
    return table(
        ["phase of the overlap up", "ms (median)", "share"],
        PHASES.map(([k, label]) => [label, ms(p[k]), `${((100 * p[k]) / total).toFixed(0)}%`]),
    );
}

/** Figure 7: per (N, M), the fleet's rotation against each cluster rotating alone. */
export function clusterTable(rows: ClusterRow[]): string {
    const pair = (a: number, b: number) => `${a} / ${b}`;
    return table(
        [
            "N clusters",
            "M services each",
            "ups: fleet / own keys",
            "phases: fleet / own keys",
            "waves, all ups: fleet / own keys",
            "floor in R: fleet / own keys",
            "Deployment roll-outs (all three)",
            "ups fleet / own",
            "floor fleet / own",
            "verifiers first: ups, phases, floor / own",
            "signed in one cluster, verified in another: fleet / own keys",
        ],
        rows.map((r) => [
            r.clusters,
            `${r.services} (${r.verifiers}+${r.presenters})`,
            pair(r.fleet.ups, r.independent.ups),
            pair(r.fleet.phases, r.independent.phases),
            pair(r.fleet.waves, r.independent.waves),
            pair(r.fleet.floor, r.independent.floor),
            r.fleet.rolled,
            r.upsPerIndependent.toFixed(2),
            r.floorPerIndependent.toFixed(2),
            `${r.verifiersFirst.ups}, ${r.verifiersFirst.phases}, ${r.verifiersFirstFloorPerIndependent.toFixed(2)}`,
            r.clusters === 1 ? "n/a (one cluster)" : `yes (1 key) / no (${r.clusters} keys)`,
        ]),
    );
}

/** Figure 7: the phases of one fleet rotation, in order. */
export function clusterPhases(r: ClusterRow): string {
    return table(
        ["phase", "ups (side by side)", "waves (slowest up)"],
        r.fleetPhases.map((p, i) => [`${i + 1}. ${p.label}`, p.ups.length, p.waves]),
    );
}
