// Figure 7: one key ring, N clusters x M services. A pure computation on the
// model (no Pulumi, no timing): the whole overlap -> stable rotation of a
// fleet (a key stack, fleet.role keys, and one workload stack per cluster,
// fleet.role workloads) is run up by up through the functions the program
// calls (keyRingGuard, followKeyRing, planRotation), each up reading the
// other stacks' last ledgers as its StackReferences would. Ups in one phase
// run in parallel: each reads the ledgers as they were when the phase began.
// The waves of each up are the model's plan.waves; nothing here says which
// side rolls when. Compared with each cluster rotating on its own (fleet.role
// all, one key per cluster). test/bench.test.ts asserts it on N=2, M=2.

import {
    ClusterReport,
    ConfigError,
    Following,
    KeyRingExport,
    Ledger,
    Plan,
    RawConfig,
    StackSpec,
    emptyLedger,
    followKeyRing,
    keyRingGuard,
    parseConfig,
    planRotation,
} from "../model";
import { T0 } from "./figures";
import type { Point } from "./fleet";

/** The key ring's one HMAC key. */
export const CLUSTER_SECRET = "fleet-hmac";
export const KEY_STACK = "keys";

export interface ClusterGrid {
    /** N: workload stacks following the key ring. */
    clusters: readonly number[];
    /** M: services per cluster, half verifiers and half presenters of the key (even, at least 2). */
    services: readonly number[];
}

export const CLUSTER_GRID: ClusterGrid = { clusters: [1, 2, 3, 5, 10], services: [4, 20] };

const STABLE_1: Point = { stage: "stable", generation: 1 };
const OVERLAP_2: Point = { stage: "overlap", generation: 2 };
const STABLE_2: Point = { stage: "stable", generation: 2 };

const HOUR_MS = 3_600_000;
const pad = (i: number, n = 2) => String(i).padStart(n, "0");
export const clusterName = (i: number) => `cluster-${pad(i)}`;

/** What a cluster's up did, read from its plan (never from the schedule). */
export type ClusterStep = "verifiers, presenters held" | "verifiers, then presenters" | "presenters" | "verifiers drop the old key";

/** One `pulumi up` of the rotation. */
export interface FleetUp {
    stack: string;
    step: ClusterStep | "key ring: overlap" | "key ring: stable";
    /** plan.waves.length: each wave is one roll-out time R; an up that rolls nothing costs 0. */
    waves: number;
    /** Deployments the up rolls (changed pod templates). */
    rolled: number;
}

export interface FleetPhase {
    /** What its ups did, e.g. "cluster-01..cluster-04: verifiers, presenters held". */
    label: string;
    ups: FleetUp[];
    /** The slowest up of the phase (they run side by side). */
    waves: number;
}

/** A whole rotation: its phases, and the totals the figure reports. */
export interface RotationCost {
    ups: number;
    phases: number;
    /** Sum over ups of plan.waves.length. */
    waves: number;
    /** Waves on the critical path: the sum over phases of the slowest up's waves (in roll-out times R). */
    floor: number;
    /** Deployment roll-outs over the whole rotation. */
    rolled: number;
}

export interface ClusterRow {
    clusters: number;
    /** Per cluster. */
    services: number;
    verifiers: number;
    presenters: number;
    /** The key ring's rotation with the fewest ups: cluster N takes both steps in one up. */
    fleet: RotationCost;
    /** Its phases, as the model ran them. */
    fleetPhases: FleetPhase[];
    /** The same rotation with every cluster's verifiers first (all held), then every cluster's presenters: one more up, fewer phases. */
    verifiersFirst: RotationCost;
    /** Each cluster its own rotation (fleet.role all, its own key): overlap then stable, all clusters in parallel. */
    independent: RotationCost;
    upsPerIndependent: number;
    floorPerIndependent: number;
    verifiersFirstFloorPerIndependent: number;
}

function costOf(phases: FleetPhase[]): RotationCost {
    const ups = phases.flatMap((p) => p.ups);
    return {
        ups: ups.length,
        phases: phases.length,
        waves: ups.reduce((n, u) => n + u.waves, 0),
        floor: phases.reduce((n, p) => n + p.waves, 0),
        rolled: ups.reduce((n, u) => n + u.rolled, 0),
    };
}

function fail(what: string): never {
    throw new Error(`figure 7: ${what}`);
}

/** The services of one cluster: v verifiers and p presenters of the key. */
function clusterServices(verifiers: number, presenters: number): { verifiers: string[]; presenters: string[] } {
    return {
        verifiers: Array.from({ length: verifiers }, (_, i) => `verifier-${pad(i + 1, 3)}`),
        presenters: Array.from({ length: presenters }, (_, i) => `presenter-${pad(i + 1, 3)}`),
    };
}

const servicesRaw = (names: string[]) =>
    Object.fromEntries(names.map((s) => [s, { image: `registry.example/titan/${s}:1.0.0` }])) as Record<string, unknown>;

const changedOf = (plan: Plan) => new Set(plan.workloads.filter((w) => w.changed).map((w) => w.service.name));

/**
 * Every presenter that rolls in `plan` rolls in a later wave than every
 * verifier that rolls in it (within one stack the program orders them).
 */
function checkPresentersAfterVerifiers(plan: Plan, verifiers: string[], presenters: string[], where: string): void {
    const waveOf = new Map<string, number>();
    plan.waves.forEach((wave, i) => wave.forEach((w) => waveOf.set(w, i)));
    const v = verifiers.filter((s) => waveOf.has(s)).map((s) => waveOf.get(s)!);
    const p = presenters.filter((s) => waveOf.has(s)).map((s) => waveOf.get(s)!);
    if (v.length > 0 && p.length > 0 && Math.min(...p) <= Math.max(...v)) {
        fail(`${where}: a presenter rolls in wave ${Math.min(...p) + 1}, not after every verifier (last in wave ${Math.max(...v) + 1})`);
    }
}

/**
 * A key stack and N workload stacks, run through the model. Each up reads
 * the other stacks' last ledgers (a snapshot taken when its phase began) and
 * the key ring its key stack last exported, as the program does through
 * StackReferences; a refused up throws.
 */
class FleetRun {
    private keyLedger: Ledger = emptyLedger();
    private keyPoint?: Point;
    private readonly ledgers = new Map<string, Ledger | undefined>();
    private hours = 0;

    constructor(
        readonly clusters: string[],
        readonly verifiers: string[],
        readonly presenters: string[],
    ) {
        for (const c of clusters) this.ledgers.set(c, undefined);
    }

    /** Each phase a day later: the key ring's overlap guard (minOverlapHours, 24 by default) is past when it retires. */
    private tick(): Date {
        this.hours += 25;
        return new Date(T0.getTime() + this.hours * HOUR_MS);
    }

    private keyRingRaw(p: Point): RawConfig {
        return {
            fleet: { role: "keys", clusters: this.clusters },
            secrets: { [CLUSTER_SECRET]: { kind: "hmac", generation: p.generation, stage: p.stage } },
        };
    }

    /** The key stack's `keyRing` output after its last up. */
    private keyRing(): KeyRingExport {
        if (!this.keyPoint) fail("a cluster's up before the key ring's first");
        return { clusters: this.clusters, secrets: this.keyRingRaw(this.keyPoint).secrets as KeyRingExport["secrets"] };
    }

    private reports(of: ReadonlyMap<string, Ledger | undefined>, except?: string): ClusterReport[] {
        return [...of].filter(([c]) => c !== except).map(([stack, ledger]) => ({ stack, ledger, unreadable: new Map() }));
    }

    /** The key stack's up to `p`: its guard reads every cluster's last ledger. `commit` false: a probe. */
    keyUp(p: Point, now: Date, commit = true): { plan?: Plan; refused?: ConfigError } {
        const spec = parseConfig(this.keyRingRaw(p), KEY_STACK);
        const guard = keyRingGuard(spec, this.keyLedger, this.reports(this.ledgers));
        if (guard.issues.length > 0) return { refused: new ConfigError(guard.issues) };
        const plan = planRotation(spec, this.keyLedger, now);
        if (commit) {
            this.keyLedger = plan.ledger;
            this.keyPoint = p;
        }
        return { plan };
    }

    private clusterSpec(cluster: string): StackSpec {
        return parseConfig(
            {
                fleet: { role: "workloads", keyRing: KEY_STACK },
                kubernetes: { namespace: "titan", renderDir: `rendered-${cluster}` },
                services: servicesRaw([...this.verifiers, ...this.presenters]),
                consumers: { [CLUSTER_SECRET]: { verifiers: this.verifiers, presenters: this.presenters } },
            },
            cluster,
            this.keyRing().secrets,
        );
    }

    /** A cluster's up against `reads` (the other clusters' ledgers); undefined `plan` when the model refuses it. */
    clusterUp(
        cluster: string,
        reads: ReadonlyMap<string, Ledger | undefined>,
        now: Date,
    ): { plan?: Plan; following: Following; refused?: ConfigError } {
        const spec = this.clusterSpec(cluster);
        const previous = this.ledgers.get(cluster) ?? emptyLedger();
        const following = followKeyRing(spec, previous, cluster, this.keyRing(), this.reports(reads, cluster));
        try {
            return { plan: planRotation(spec, previous, now, new Map(), following), following };
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            return { following, refused: e };
        }
    }

    /** A phase of the key stack's up alone (it has no workloads: it rolls nothing). */
    keyPhase(p: Point): FleetPhase {
        const { plan, refused } = this.keyUp(p, this.tick());
        if (!plan) fail(`the key ring's up to ${p.stage} g${p.generation} was refused: ${refused?.message}`);
        const up: FleetUp = {
            stack: KEY_STACK,
            step: p.stage === "overlap" ? "key ring: overlap" : "key ring: stable",
            waves: plan.waves.length,
            rolled: changedOf(plan).size,
        };
        if (up.waves !== 0 || up.rolled !== 0) fail(`the key stack rolled ${up.rolled} workloads in ${up.waves} waves; it has none`);
        return { label: `${KEY_STACK}: ${p.stage} g${p.generation}`, ups: [up], waves: 0 };
    }

    /**
     * A phase of cluster ups side by side: each reads the others' ledgers as
     * the phase began. Each up must do `expected` (read from its plan);
     * undefined: a cluster's first up (settling, not classified).
     */
    clusterPhase(ups: string[], expected: ClusterStep | undefined): FleetPhase {
        const now = this.tick();
        const reads = new Map(this.ledgers);
        const done = ups.map((c): FleetUp & { ledger: Ledger } => {
            const r = this.clusterUp(c, reads, now);
            if (!r.plan) fail(`${c}'s up was refused: ${r.refused?.message}`);
            const step = expected === undefined ? "verifiers, then presenters" : this.stepOf(c, r.plan, r.following);
            if (expected !== undefined && step !== expected)
                fail(`${c}: the model's plan does "${step}" where the rotation needs "${expected}"`);
            return { stack: c, step, waves: r.plan.waves.length, rolled: changedOf(r.plan).size, ledger: r.plan.ledger };
        });
        for (const d of done) this.ledgers.set(d.stack, d.ledger);
        const range = ups.length === 1 ? ups[0] : `${ups[0]}..${ups[ups.length - 1]}`;
        return {
            label: `${range}: ${expected ?? "first up"}`,
            ups: done.map(({ stack, step, waves, rolled }) => ({ stack, step, waves, rolled })),
            waves: Math.max(...done.map((u) => u.waves)),
        };
    }

    /** What a cluster's up did, from its plan; throws on anything the rule forbids. */
    private stepOf(cluster: string, plan: Plan, following: Following): ClusterStep {
        checkPresentersAfterVerifiers(plan, this.verifiers, this.presenters, cluster);
        const changed = changedOf(plan);
        const v = this.verifiers.filter((s) => changed.has(s)).length;
        const p = this.presenters.filter((s) => changed.has(s)).length;
        const all = (n: number, of: string[]) => n === of.length;
        const held = following.held.get(CLUSTER_SECRET);
        const row = plan.ledger[CLUSTER_SECRET];
        if (held !== undefined) {
            if (p > 0) fail(`${cluster}: the up that holds its presenters on g${held} restarts ${p} of them`);
            if (!all(v, this.verifiers)) fail(`${cluster}: held up rolls ${v} of ${this.verifiers.length} verifiers`);
            return "verifiers, presenters held";
        }
        if (row.stage === "overlap" && all(v, this.verifiers) && all(p, this.presenters)) return "verifiers, then presenters";
        if (row.stage === "overlap" && v === 0 && all(p, this.presenters)) return "presenters";
        if (row.stage === "stable" && all(v, this.verifiers) && p === 0) return "verifiers drop the old key";
        return fail(`${cluster}: an up at ${row.stage} g${row.generation} that rolls ${v} verifiers and ${p} presenters`);
    }

    /** The model refuses this early step (probe only: nothing is committed). */
    expectRefused(what: string, probe: () => boolean): void {
        if (probe()) fail(`${what} was accepted; the phases' order would not be the model's`);
    }

    /** The ledgers as they stand (for the end-state check and the probes). */
    snapshot(): Map<string, Ledger | undefined> {
        return new Map(this.ledgers);
    }

    keyRow() {
        return this.keyLedger[CLUSTER_SECRET];
    }

    /** The fleet at stable g1 everywhere (the key ring, then every cluster's first up; not counted). */
    settle(): void {
        this.keyPhase(STABLE_1);
        this.clusterPhase(this.clusters, undefined);
    }

    checkEnd(): void {
        const key = this.keyRow();
        if (key.stage !== "stable" || key.generation !== 2 || key.keys.map((k) => k.generation).join() !== "2")
            fail(`the key ring ends at ${key.stage} g${key.generation} with keys ${key.keys.map((k) => k.generation).join("+")}`);
        for (const [c, l] of this.ledgers) {
            const row = l?.[CLUSTER_SECRET];
            if (
                !row ||
                row.stage !== "stable" ||
                row.generation !== 2 ||
                row.presentersHeldAt !== undefined ||
                row.verifierKeyIds.length !== 1
            )
                fail(`${c} ends at ${row ? `${row.stage} g${row.generation}, verifiers ${row.verifierKeyIds.join("+")}` : "nothing"}`);
        }
    }
}

/**
 * The fleet's rotation with the fewest ups: the key ring's overlap; clusters
 * 1..N-1 (verifiers; presenters held), side by side; cluster N (verifiers,
 * then presenters, in one up); clusters 1..N-1 again (presenters); the key
 * ring's stable; every cluster (verifiers drop the old key). Also probes
 * that each phase could not have started earlier.
 */
export function fleetRotation(clusters: number, verifiers: number, presenters: number): FleetPhase[] {
    const names = Array.from({ length: clusters }, (_, i) => clusterName(i + 1));
    const svc = clusterServices(verifiers, presenters);
    const run = new FleetRun(names, svc.verifiers, svc.presenters);
    run.settle();
    const [first, last] = [names.slice(0, -1), names[names.length - 1]];
    // Probes run at a time past minOverlapHours: only the fleet's rule can refuse them.
    const later = new Date(T0.getTime() + 10_000 * HOUR_MS);
    const phases: FleetPhase[] = [run.keyPhase(OVERLAP_2)];
    if (first.length > 0) {
        phases.push(run.clusterPhase(first, "verifiers, presenters held"));
        run.expectRefused(
            `${first[0]}'s presenters' step before ${last}'s verifiers hold g2`,
            () => run.clusterUp(first[0], run.snapshot(), later).plan !== undefined,
        );
    }
    phases.push(run.clusterPhase([last], "verifiers, then presenters"));
    if (first.length > 0) {
        run.expectRefused(
            "the key ring's stable while some cluster's presenters use g1",
            () => run.keyUp(STABLE_2, later, false).plan !== undefined,
        );
        phases.push(run.clusterPhase(first, "presenters"));
    }
    phases.push(run.keyPhase(STABLE_2), run.clusterPhase(names, "verifiers drop the old key"));
    run.checkEnd();
    return phases;
}

/** The same rotation with every cluster's verifiers' step side by side first, then every cluster's presenters' step. */
export function verifiersFirstRotation(clusters: number, verifiers: number, presenters: number): FleetPhase[] {
    const names = Array.from({ length: clusters }, (_, i) => clusterName(i + 1));
    const svc = clusterServices(verifiers, presenters);
    const run = new FleetRun(names, svc.verifiers, svc.presenters);
    run.settle();
    const phases: FleetPhase[] = [run.keyPhase(OVERLAP_2)];
    // One cluster has no one to wait for: its first up takes both steps.
    if (clusters === 1) phases.push(run.clusterPhase(names, "verifiers, then presenters"));
    else phases.push(run.clusterPhase(names, "verifiers, presenters held"), run.clusterPhase(names, "presenters"));
    phases.push(run.keyPhase(STABLE_2), run.clusterPhase(names, "verifiers drop the old key"));
    run.checkEnd();
    return phases;
}

/**
 * N clusters each rotating alone: one stack per cluster (fleet.role all) with
 * its own key, overlap then stable, every cluster side by side.
 */
export function independentRotation(clusters: number, verifiers: number, presenters: number): FleetPhase[] {
    const svc = clusterServices(verifiers, presenters);
    const raw = (p: Point): RawConfig => ({
        kubernetes: { namespace: "titan", renderDir: "rendered" },
        services: servicesRaw([...svc.verifiers, ...svc.presenters]),
        secrets: {
            [CLUSTER_SECRET]: {
                kind: "hmac",
                generation: p.generation,
                stage: p.stage,
                verifiers: svc.verifiers,
                presenters: svc.presenters,
            },
        },
    });
    const at = (h: number) => new Date(T0.getTime() + h * HOUR_MS);
    const steps: [Point, Date][] = [
        [OVERLAP_2, at(25)],
        [STABLE_2, at(50)],
    ];
    const ledgers = new Map<string, Ledger>();
    for (let i = 1; i <= clusters; i++)
        ledgers.set(clusterName(i), planRotation(parseConfig(raw(STABLE_1), clusterName(i)), {}, T0).ledger);
    return steps.map(([p, now]) => {
        const ups = [...ledgers.keys()].map((c): FleetUp => {
            const plan = planRotation(parseConfig(raw(p), c), ledgers.get(c)!, now);
            checkPresentersAfterVerifiers(plan, svc.verifiers, svc.presenters, `${c} (alone)`);
            ledgers.set(c, plan.ledger);
            return {
                stack: c,
                step: p.stage === "overlap" ? "verifiers, then presenters" : "verifiers drop the old key",
                waves: plan.waves.length,
                rolled: changedOf(plan).size,
            };
        });
        return {
            label: `${ups.length === 1 ? ups[0].stack : `${ups[0].stack}..${ups[ups.length - 1].stack}`}: ${p.stage} g${p.generation}`,
            ups,
            waves: Math.max(...ups.map((u) => u.waves)),
        };
    });
}

export function clusterRow(clusters: number, services: number): ClusterRow {
    if (!Number.isInteger(clusters) || clusters < 1) fail(`${clusters} clusters: at least 1`);
    if (!Number.isInteger(services) || services < 2 || services % 2 !== 0)
        fail(`${services} services per cluster: an even number, at least 2`);
    const [verifiers, presenters] = [services / 2, services / 2];
    const fleetPhases = fleetRotation(clusters, verifiers, presenters);
    const fleet = costOf(fleetPhases);
    const verifiersFirst = costOf(verifiersFirstRotation(clusters, verifiers, presenters));
    const independent = costOf(independentRotation(clusters, verifiers, presenters));
    // Both ways restart the same Deployments: the fleet's extra ups roll nothing extra.
    for (const [name, c] of [
        ["fleet", fleet],
        ["verifiers-first", verifiersFirst],
    ] as const) {
        if (c.rolled !== independent.rolled)
            fail(
                `N=${clusters} M=${services}: the ${name} rotation rolls ${c.rolled} Deployments, independent rotations ${independent.rolled}`,
            );
    }
    return {
        clusters,
        services,
        verifiers,
        presenters,
        fleet,
        fleetPhases,
        verifiersFirst,
        independent,
        upsPerIndependent: fleet.ups / independent.ups,
        floorPerIndependent: fleet.floor / independent.floor,
        verifiersFirstFloorPerIndependent: verifiersFirst.floor / independent.floor,
    };
}

export function clusterFigure(grid: ClusterGrid = CLUSTER_GRID): ClusterRow[] {
    return grid.clusters.flatMap((n) => grid.services.map((m) => clusterRow(n, m)));
}
