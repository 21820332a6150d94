// A pod-level simulator of one `pulumi up`, independent of the program's own
// wave computation. It follows only what the engine and Kubernetes do:
// a changed Deployment starts rolling once every Deployment it depends on
// has finished; while it rolls, old and new pods run side by side; pods
// read the Secret object their template names. At every step it checks the
// safety rule: every credential any running presenter pod may use is
// accepted by every running verifier pod.

import { Plan, StackSpec, backendNode, declaredOrder, verifierNodes } from "../../model";
import { secretObjectName } from "../../model";

/** A credential: a generation's key material, one incarnation of it. */
type Credential = string;

/** What one pod holds of each secret it consumes. */
interface PodView {
    presents: Map<string, Credential>;
    accepts: Map<string, Set<Credential>>;
}

/** Key material identity across ups: a generation keeps its incarnation while live. */
export class KeyIncarnations {
    private current = new Map<string, number>();
    private counter = 0;

    /** Moves to the live set of a plan; returns the credential of (secret, generation). */
    advance(plan: Plan): void {
        const next = new Map<string, number>();
        for (const p of plan.secrets) {
            for (const g of p.view.live) {
                const key = `${p.spec.name}/g${g}`;
                next.set(key, this.current.get(key) ?? ++this.counter);
            }
        }
        this.current = next;
    }

    credential(secret: string, generation: number): Credential {
        const n = this.current.get(`${secret}/g${generation}`);
        if (n === undefined) throw new Error(`no live key for ${secret} g${generation}`);
        return `${secret}/g${generation}#${n}`;
    }

    snapshot(): KeyIncarnations {
        const copy = new KeyIncarnations();
        copy.current = new Map(this.current);
        copy.counter = this.counter;
        return copy;
    }
}

function podView(plan: Plan, workload: string, keys: KeyIncarnations): PodView {
    const view: PodView = { presents: new Map(), accepts: new Map() };
    const backendOf = plan.secrets.find((p) => backendNode(p.spec) === workload);
    if (backendOf) {
        // An AWS backend: it accepts what its verifier view holds.
        view.accepts.set(
            backendOf.spec.name,
            new Set(backendOf.view.verifier.generations.map((g) => keys.credential(backendOf.spec.name, g))),
        );
        return view;
    }
    const w = plan.workloads.find((x) => x.service.name === workload)!;
    for (const c of w.consumes) {
        const creds = c.view.generations.map((g) => keys.credential(c.secret, g));
        if (c.role === "presenter") view.presents.set(c.secret, creds[0]);
        else view.accepts.set(c.secret, new Set(creds));
    }
    return view;
}

/** Secret object name -> the credentials it holds, for a plan. */
function secretObjects(plan: Plan, keys: KeyIncarnations): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of plan.secrets) {
        for (const role of ["verifier", "presenter"] as const) {
            const gens = p.view[role].generations;
            out.set(
                secretObjectName(p.spec.name, role, gens),
                [...gens.map((g) => keys.credential(p.spec.name, g)), ...p.view[role].keyIds].join(","),
            );
        }
    }
    return out;
}

export interface Violation {
    secret: string;
    presenter: string;
    verifier: string;
    credential: Credential;
    step: number;
}

export interface SimulationResult {
    violations: Violation[];
    /** Secret object names reused with other content (safety rule 3). */
    editedObjects: string[];
    steps: number;
}

/**
 * Simulates the up from `before` to `after`. `pick(n)` chooses among n
 * possible next events (any interleaving the engine and Kubernetes allow).
 */
export function simulateUp(
    spec: StackSpec,
    before: Plan,
    keysBefore: KeyIncarnations,
    after: Plan,
    keysAfter: KeyIncarnations,
    pick: (n: number) => number,
    /** Secrets whose failed logins this up accepts (single-slot rotations). */
    acceptedFailures: Set<string> = new Set(),
): SimulationResult {
    const oldObjects = secretObjects(before, keysBefore);
    const newObjects = secretObjects(after, keysAfter);
    const editedObjects = [...newObjects]
        .filter(([name, content]) => oldObjects.has(name) && oldObjects.get(name) !== content)
        .map(([n]) => n);

    // Which Deployments change: their pod template names other objects or
    // other generations. Derived from views, not from plan.changed. AWS
    // backends (RDS, ElastiCache) are nodes too: they switch atomically.
    const backends = after.secrets.map((p) => backendNode(p.spec)).filter((n): n is string => n !== undefined);
    const names = [...after.workloads.map((w) => w.service.name), ...backends];
    const oldView = new Map(names.map((n) => [n, podView(before, n, keysBefore)]));
    const newView = new Map(names.map((n) => [n, podView(after, n, keysAfter)]));
    const templateOf = (p: Plan, n: string) => {
        const backendOf = p.secrets.find((x) => backendNode(x.spec) === n);
        if (backendOf) return backendOf.view.verifier.generations.join(",");
        return p.workloads
            .find((w) => w.service.name === n)!
            .consumes.map((c) => secretObjectName(c.secret, c.role, c.view.generations))
            .join(",");
    };
    const changing = names.filter((n) => templateOf(before, n) !== templateOf(after, n));

    // Running pods per workload: which template versions are up.
    const running = new Map<string, Set<"old" | "new">>(names.map((n) => [n, new Set(["old"])]));
    // The engine's order: what the program's resources declare (a Deployment
    // waits for its Secret objects, each object for the nodes the plan names).
    const declared = declaredOrder(after);
    const deps = new Map<string, string[]>(names.map((n) => [n, [...(declared.get(n) ?? [])]]));
    const done = new Set(names.filter((n) => !changing.includes(n)));
    const violations: Violation[] = [];
    let step = 0;

    const check = () => {
        for (const s of spec.secrets.values()) {
            if (s.stage === "compromised") continue; // accepted failures; the plan warns instead
            if (acceptedFailures.has(s.name)) continue; // a single-slot rotation: the plan warns instead
            for (const p of s.presenters) {
                for (const pv of running.get(p)!) {
                    const cred = (pv === "old" ? oldView : newView).get(p)!.presents.get(s.name)!;
                    for (const v of verifierNodes(s)) {
                        for (const vv of running.get(v)!) {
                            if (!(vv === "old" ? oldView : newView).get(v)!.accepts.get(s.name)!.has(cred)) {
                                violations.push({ secret: s.name, presenter: p, verifier: v, credential: cred, step });
                            }
                        }
                    }
                }
            }
        }
    };

    check();
    while (done.size < names.length) {
        // Events: a ready Deployment starts a new pod (old+new), or one that is
        // rolling retires its last old pod (new only, and it is done).
        const events: (() => void)[] = [];
        for (const n of changing) {
            if (done.has(n) || !(deps.get(n) ?? []).every((d) => done.has(d))) continue;
            const r = running.get(n)!;
            if (backends.includes(n)) {
                events.push(() => {
                    r.clear();
                    r.add("new");
                    done.add(n);
                });
                continue;
            }
            if (!r.has("new")) events.push(() => r.add("new"));
            else
                events.push(() => {
                    r.delete("old");
                    done.add(n);
                });
        }
        if (events.length === 0) throw new Error(`simulation stuck: ${changing.filter((n) => !done.has(n)).join(", ")} wait on each other`);
        events[pick(events.length)]();
        step++;
        check();
    }
    return { violations, editedObjects, steps: step };
}
