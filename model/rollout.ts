// The order of a roll-out (docs/DESIGN.md, safety rule 1 and 4): which workloads
// change, which must wait for which, and the waves that follow.

import { isExternal, secretSlots } from "./config";
import { ConfigError, configKey } from "./errors";
import { Role, SecretSpec } from "./types";
import { RoleView, SecretView, sameRoleView } from "./stages";

/** What one workload consumes of one secret. */
export interface Consumption {
    secret: string;
    role: Role;
    view: RoleView;
    /** False when the workload held exactly this view at the last up. */
    changed: boolean;
}

/** A dependency edge: `from` starts rolling only after `to` has finished. */
export interface Edge {
    from: string;
    to: string;
    secret: string;
}

export interface SecretTransition {
    spec: SecretSpec;
    /** The view at the last successful up; undefined when the ledger has none. */
    previous?: SecretView;
    next: SecretView;
    /** Who consumed it at the last up, per role (undefined: the row predates these records). */
    previousMembers?: Record<Role, string[]>;
}

/** A secret the config removes in this up (removeSecrets): who consumed it at the last up. */
export interface Removal {
    secret: string;
    members: Record<Role, string[]>;
}

/** What a workload stops consuming in this up: a secret removed, or a role it no longer has. */
export interface Dropped {
    secret: string;
    role: Role;
}

/**
 * The node that stands for an AWS backend (an RDS instance, an ElastiCache
 * group) in the roll-out graph: it verifies, and presenters wait for it.
 */
export function backendNode(s: SecretSpec): string | undefined {
    return s.kind === "password" && isExternal(s.backend) ? `${s.backend.type}:${s.backend.identifier}` : undefined;
}

/** The nodes that verify a secret: its verifier services, or its AWS backend. */
export function verifierNodes(s: SecretSpec): string[] {
    const node = backendNode(s);
    return node ? [node] : s.verifiers;
}

/**
 * Per workload (and AWS backend node), what it consumes, from the
 * transitions of every secret. A consumption has changed when the role's
 * view differs from the last up's, or when the workload newly has that role
 * (a consumer added to a stable secret gets the secret: its pods restart).
 */
export function consumptions(services: Iterable<string>, transitions: SecretTransition[]): Map<string, Consumption[]> {
    const out = new Map<string, Consumption[]>();
    for (const svc of services) out.set(svc, []);
    for (const t of transitions) {
        const node = backendNode(t.spec);
        if (node) out.set(node, []);
        for (const role of ["verifier", "presenter"] as const) {
            const members = role === "verifier" ? verifierNodes(t.spec) : t.spec.presenters;
            for (const svc of members) {
                const view = t.next[role];
                const added = t.previous !== undefined && t.previousMembers !== undefined && !t.previousMembers[role].includes(svc);
                const changed = added || !sameRoleView(t.previous?.[role], view);
                out.get(svc)?.push({ secret: t.spec.name, role, view, changed });
            }
        }
    }
    return out;
}

/** Per workload, what it stops consuming: each removed secret's consumers, and consumers taken off a secret. */
export function droppedConsumptions(transitions: SecretTransition[], removals: Removal[]): Map<string, Dropped[]> {
    const out = new Map<string, Dropped[]>();
    const add = (svc: string, d: Dropped) => out.set(svc, [...(out.get(svc) ?? []), d]);
    for (const r of removals)
        for (const role of ["verifier", "presenter"] as const) for (const svc of r.members[role]) add(svc, { secret: r.secret, role });
    for (const t of transitions) {
        if (t.previous === undefined || t.previousMembers === undefined) continue;
        for (const role of ["verifier", "presenter"] as const) {
            const now = role === "verifier" ? t.spec.verifiers : t.spec.presenters;
            for (const svc of t.previousMembers[role]) if (!now.includes(svc)) add(svc, { secret: t.spec.name, role });
        }
    }
    return out;
}

/** Workloads whose pod template changes because of a secret: what they hold changes, or what they stop holding. */
export function changedWorkloads(cons: Map<string, Consumption[]>, dropped: Map<string, Dropped[]> = new Map()): Set<string> {
    return new Set([
        ...[...cons].filter(([, cs]) => cs.some((c) => c.changed)).map(([svc]) => svc),
        ...[...dropped.keys()].filter((svc) => cons.has(svc)),
    ]);
}

/**
 * The order of a removal: every presenter stops presenting the secret
 * before any verifier stops accepting it. No Secret object carries this
 * order (nobody reads one any more), so these edges are declared between
 * the Deployments themselves.
 */
export function removalEdges(removals: Removal[], cons: Map<string, Consumption[]>): Edge[] {
    const edges: Edge[] = [];
    for (const r of removals) {
        const presenters = r.members.presenter.filter((s) => cons.has(s));
        for (const from of r.members.verifier.filter((s) => cons.has(s)))
            for (const to of presenters) edges.push({ from, to, secret: r.secret });
    }
    return edges;
}

/**
 * Which side rolls first, if the stage orders its roll-out at all. A
 * single-slot backend moving to a new generation at `stable` changes first
 * and its presenters restart after it (docs/runbook.md section 2).
 */
export function firstRole(s: SecretSpec): Role | undefined {
    if (s.stage === "overlap") return "verifier";
    if (s.stage === "revert") return "presenter";
    if (s.stage === "stable" && secretSlots(s) === 1) return "verifier";
    return undefined; // stable: one side changes at a time; compromised: all at once
}

/**
 * The edges of this up. In `overlap` each presenter whose view of the secret
 * changes waits for every verifier whose view of it changes; in `revert` the
 * other way round. An edge to a workload whose view of the secret stays the
 * same would order nothing, and the edges of a rotation that is not moving
 * would refuse an unrelated rotation as a cycle, so only those get edges.
 */
export function rolloutEdges(transitions: SecretTransition[], cons: Map<string, Consumption[]>): Edge[] {
    const edges: Edge[] = [];
    for (const t of transitions) {
        const first = firstRole(t.spec);
        if (first === undefined) continue;
        const moves = (svc: string) => cons.get(svc)?.some((c) => c.secret === t.spec.name && c.changed) ?? false;
        const before = (first === "verifier" ? verifierNodes(t.spec) : t.spec.presenters).filter(moves);
        const after = (first === "verifier" ? t.spec.presenters : verifierNodes(t.spec)).filter(moves);
        for (const from of after) for (const to of before) edges.push({ from, to, secret: t.spec.name });
    }
    return edges;
}

/**
 * Refuses contradictory orders: finds a cycle among the edges and names the
 * secrets whose rotations demand it.
 */
export function checkAcyclic(edges: Edge[]): void {
    const out = new Map<string, Edge[]>();
    for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
    const state = new Map<string, "visiting" | "done">();
    const stack: Edge[] = [];
    const visit = (node: string): Edge[] | undefined => {
        state.set(node, "visiting");
        for (const e of out.get(node) ?? []) {
            const s = state.get(e.to);
            if (s === "visiting") {
                const start = stack.findIndex((x) => x.from === e.to);
                return [...stack.slice(start), e];
            }
            if (s === undefined) {
                stack.push(e);
                const found = visit(e.to);
                if (found) return found;
                stack.pop();
            }
        }
        state.set(node, "done");
        return undefined;
    };
    for (const node of [...out.keys()].sort()) {
        if (state.has(node)) continue;
        const cycle = visit(node);
        if (cycle) throw cycleError(cycle);
    }
}

function cycleError(cycle: Edge[]): ConfigError {
    const secrets = [...new Set(cycle.map((e) => e.secret))].sort();
    const steps = cycle.map((e) => `${e.from} after ${e.to} (${e.secret})`).join(", ");
    return new ConfigError([
        {
            key: configKey(["secrets"]),
            found: `rotations of ${secrets.map((s) => JSON.stringify(s)).join(" and ")} in one up whose orders contradict each other: ${steps}`,
            allowed: "rotations whose roll-out orders can be satisfied together",
            fix: `move ${JSON.stringify(secrets[secrets.length - 1])} back to its last applied stage, apply ${JSON.stringify(secrets[0])} first, then the other in a later up`,
        },
    ]);
}

/**
 * Waves: wave 1 holds the changing workloads that wait for nothing; wave k+1
 * those whose dependencies are all in waves <= k. Assumes an acyclic graph.
 */
export function waves(changed: Set<string>, edges: Edge[]): string[][] {
    const deps = new Map<string, Set<string>>([...changed].map((w) => [w, new Set<string>()]));
    for (const e of edges) deps.get(e.from)?.add(e.to);
    const result: string[][] = [];
    const placed = new Set<string>();
    while (placed.size < deps.size) {
        const wave = [...deps]
            .filter(([w, d]) => !placed.has(w) && [...d].every((x) => placed.has(x)))
            .map(([w]) => w)
            .sort();
        if (wave.length === 0) throw new Error("waves: dependency cycle (checkAcyclic must run first)");
        wave.forEach((w) => placed.add(w));
        result.push(wave);
    }
    return result;
}
