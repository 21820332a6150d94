// Figures 1 and 2: pure computations on the model (planRotation), no Pulumi.
// Structural counts only: they do not depend on the machine, and
// test/bench.test.ts asserts them exactly on small fleets.

import { Edge, Ledger, Plan, Role, StackSpec, ledgerEntry, parseConfig, planRotation, specView } from "../model";
import { Fleet, FleetSecret, Point, consumersOf, fleetConfig, prng } from "./fleet";

// ---------------------------------------------------------------------------
// Figure 1: restarts per rotation step against the minimum.

export type StepKind = "stable->overlap" | "overlap->stable" | "overlap->revert" | "revert->stable" | "stable->compromised";

export interface RotationStep {
    kind: StepKind;
    from: Point;
    to: Point;
}

/** One of each kind of step, at generations 1 and 2 (the counts do not depend on N). */
export const ROTATION_STEPS: readonly RotationStep[] = [
    { kind: "stable->overlap", from: { stage: "stable", generation: 1 }, to: { stage: "overlap", generation: 2 } },
    { kind: "overlap->stable", from: { stage: "overlap", generation: 2 }, to: { stage: "stable", generation: 2 } },
    { kind: "overlap->revert", from: { stage: "overlap", generation: 2 }, to: { stage: "revert", generation: 2 } },
    { kind: "revert->stable", from: { stage: "revert", generation: 2 }, to: { stage: "stable", generation: 1 } },
    { kind: "stable->compromised", from: { stage: "stable", generation: 1 }, to: { stage: "compromised", generation: 2 } },
];

/**
 * The generations a role must hold at a point, primary first: README's stage
 * table written out again, deliberately not the model's `viewOf`, so the
 * minimum is not computed by the code it measures.
 */
export function mustHold(p: Point, role: Role): number[] {
    const n = p.generation;
    switch (p.stage) {
        case "stable":
        case "compromised":
            return [n];
        case "overlap":
            return role === "verifier" ? [n, n - 1] : [n];
        case "revert":
            return role === "verifier" ? [n, n - 1] : [n - 1];
    }
}

/**
 * The minimum for one step: the distinct consumers of the rotated secret
 * whose view of it must change, i.e. the ordered list of generations their
 * role must hold (primary, then secondary: they arrive in different
 * variables) differs before and after the step. A process reads its
 * credentials at start-up, so each of them has to restart, and no one else
 * has to: a consumer whose view stays the same, or a service that does not
 * consume the secret, gains nothing from a restart. Dropping the secondary
 * counts as a needed change: a retired key that is still accepted is not
 * retired.
 */
export function minimumRestarts(s: FleetSecret, step: RotationStep): string[] {
    const moves = (role: Role) => mustHold(step.from, role).join(",") !== mustHold(step.to, role).join(",");
    return [...(moves("verifier") ? s.verifiers : []), ...(moves("presenter") ? s.presenters : [])].sort();
}

export interface RotationCount {
    secret: string;
    step: StepKind;
    /** Deployments whose pod template changes in the program's plan (WorkloadPlan.changed). */
    program: string[];
    minimum: string[];
    /** The runbook: a rolling restart of every service. */
    runbook: number;
    /** Reloader-style: one Secret object per secret; any change to it restarts every workload that references it. */
    reloader: number;
}

const HOUR_MS = 3_600_000;
export const T0 = new Date("2026-01-01T00:00:00Z");

function spec(fleet: Fleet, pointOf: (secret: string) => Point): StackSpec {
    return parseConfig(fleetConfig(fleet, pointOf));
}

/** The ledger an earlier up would have left with every secret already at its point. */
export function settledLedger(s: StackSpec, now: Date): Ledger {
    return Object.fromEntries([...s.secrets.values()].map((x) => [x.name, ledgerEntry(x, specView(x), undefined, now)]));
}

/**
 * Two ups through the model: the fleet with `secret` at `step.from` (and the
 * others at their background points), already applied, so nothing moves;
 * then with `secret` at `step.to`, given the ledger of the first, 48 hours
 * later (past the overlap guard).
 */
export function planStep(
    fleet: Fleet,
    background: (secret: string) => Point,
    secret: string,
    step: RotationStep,
): { before: Plan; after: Plan } {
    const at = (p: Point) => (name: string) => (name === secret ? p : background(name));
    const beforeSpec = spec(fleet, at(step.from));
    const before = planRotation(beforeSpec, settledLedger(beforeSpec, T0), new Date(T0.getTime() + HOUR_MS));
    const after = planRotation(spec(fleet, at(step.to)), before.ledger, new Date(T0.getTime() + 48 * HOUR_MS));
    return { before, after };
}

export function countRotation(fleet: Fleet, background: (secret: string) => Point, s: FleetSecret, step: RotationStep): RotationCount {
    const { before, after } = planStep(fleet, background, s.name, step);
    const program = after.workloads.filter((w) => w.changed).map((w) => w.service.name);
    // Cross-check: `changed` is exactly "the pod template annotation differs".
    const annotationBefore = new Map(before.workloads.map((w) => [w.service.name, w.consumesAnnotation]));
    for (const w of after.workloads) {
        if (w.changed !== (annotationBefore.get(w.service.name) !== w.consumesAnnotation)) {
            throw new Error(
                `${s.name} ${step.kind}: ${w.service.name} changed=${w.changed} but its pod template annotation says otherwise`,
            );
        }
    }
    return {
        secret: s.name,
        step: step.kind,
        program,
        minimum: minimumRestarts(s, step),
        runbook: fleet.services.length,
        reloader: consumersOf(s).length,
    };
}

/** Points the other secrets sit at while one rotates (unchanged in both ups). */
export const BACKGROUND_POINTS: readonly Point[] = [
    { stage: "stable", generation: 1 },
    { stage: "overlap", generation: 2 },
    { stage: "revert", generation: 2 },
    { stage: "stable", generation: 3 },
    { stage: "compromised", generation: 2 },
];

/** A seeded background: each secret at one of BACKGROUND_POINTS. */
export function randomBackground(fleet: Fleet, seed: number): (secret: string) => Point {
    const rand = prng(seed);
    const points = new Map(fleet.secrets.map((s) => [s.name, BACKGROUND_POINTS[Math.floor(rand() * BACKGROUND_POINTS.length)]]));
    return (secret) => points.get(secret)!;
}

export interface RestartRow {
    step: StepKind;
    /** Rotations measured (one per secret). */
    rotations: number;
    minimum: number;
    program: number;
    runbook: number;
    reloader: number;
    /** Restarts the program makes that the minimum does not need, and needed ones it misses (both must be 0). */
    extra: number;
    missing: number;
}

/** Every secret of the fleet through every kind of step, one at a time; totals per kind. */
export function restartFigure(fleet: Fleet, background: (secret: string) => Point): RestartRow[] {
    return ROTATION_STEPS.map((step) => {
        const row: RestartRow = { step: step.kind, rotations: 0, minimum: 0, program: 0, runbook: 0, reloader: 0, extra: 0, missing: 0 };
        for (const s of fleet.secrets) {
            const c = countRotation(fleet, background, s, step);
            const needed = new Set(c.minimum);
            const done = new Set(c.program);
            row.rotations++;
            row.minimum += c.minimum.length;
            row.program += c.program.length;
            row.runbook += c.runbook;
            row.reloader += c.reloader;
            row.extra += c.program.filter((w) => !needed.has(w)).length;
            row.missing += c.minimum.filter((w) => !done.has(w)).length;
        }
        return row;
    });
}

/** x / minimum, or undefined when the minimum is 0. */
export function ratio(x: number, minimum: number): number | undefined {
    return minimum === 0 ? undefined : x / minimum;
}

// ---------------------------------------------------------------------------
// Figure 2: waves and edges of an overlap across N verifiers and M presenters.

export interface WaveRow {
    verifiers: number;
    presenters: number;
    /** Deployments the up touches. */
    changed: number;
    /** plan.waves.length. */
    waves: number;
    /** Longest chain of Deployments along plan.edges, counted independently of plan.waves. */
    depth: number;
    /** plan.edges.length: the ordered (presenter, verifier) pairs the model checks for cycles (N x M). */
    edges: number;
    /** What a barrier between the sides needs: N + M. */
    barrier: number;
    /**
     * dependsOn edges the components declare (model/plan.ts declaredOrder, as
     * components/titanSecrets.ts wires it): the presenters' Secret object ->
     * each changing verifier (N), and each Deployment -> its role's Secret
     * object (N + M, of which the M presenters' carry the order).
     */
    resourceEdges: number;
}

/** A fleet of N verifiers and M presenters of one secret. */
export function gridFleet(verifiers: number, presenters: number): Fleet {
    const v = Array.from({ length: verifiers }, (_, i) => `verifier-${String(i + 1).padStart(3, "0")}`);
    const p = Array.from({ length: presenters }, (_, i) => `presenter-${String(i + 1).padStart(3, "0")}`);
    return { services: [...v, ...p], secrets: [{ name: "hmac-grid", verifiers: v, presenters: p, envPrefix: "TITAN_HMAC" }] };
}

/** Nodes on the longest path of an acyclic graph (1 for a lone node, 0 for none). */
export function longestChain(nodes: Iterable<string>, edges: readonly Edge[]): number {
    const deps = new Map<string, string[]>();
    for (const n of nodes) deps.set(n, []);
    for (const e of edges) deps.get(e.from)?.push(e.to);
    const memo = new Map<string, number>();
    const depth = (n: string, seen: Set<string>): number => {
        const known = memo.get(n);
        if (known !== undefined) return known;
        if (seen.has(n)) throw new Error(`longestChain: cycle through ${n}`);
        seen.add(n);
        const d = 1 + Math.max(0, ...(deps.get(n) ?? []).map((m) => depth(m, seen)));
        seen.delete(n);
        memo.set(n, d);
        return d;
    };
    return Math.max(0, ...[...deps.keys()].map((n) => depth(n, new Set())));
}

export function waveRow(verifiers: number, presenters: number): WaveRow {
    const fleet = gridFleet(verifiers, presenters);
    const { after } = planStep(fleet, () => ({ stage: "stable", generation: 1 }), "hmac-grid", ROTATION_STEPS[0]);
    const changed = after.workloads.filter((w) => w.changed).map((w) => w.service.name);
    const objectEdges = after.secrets.reduce(
        (n, s) => n + s.secretObjectDependsOn.verifier.length + s.secretObjectDependsOn.presenter.length,
        0,
    );
    const workloadToObject = after.workloads.reduce((n, w) => n + w.consumes.length, 0);
    return {
        verifiers,
        presenters,
        changed: changed.length,
        waves: after.waves.length,
        depth: longestChain(changed, after.edges),
        edges: after.edges.length,
        barrier: verifiers + presenters,
        resourceEdges: objectEdges + workloadToObject,
    };
}

export const GRID = [1, 5, 20, 50] as const;

export function waveFigure(sizes: readonly number[] = GRID): WaveRow[] {
    return sizes.flatMap((n) => sizes.map((m) => waveRow(n, m)));
}
