// One key ring, many clusters (docs/DESIGN.md, "Many clusters"). The key
// stack makes each key once; every cluster's workload stack delivers it to
// its own consumers. The safety rule then holds across stacks:
//   - a cluster's presenters use a generation only once every cluster's
//     verifiers hold it (else they stay on the previous one: "held");
//   - a cluster's verifiers drop a generation only once no cluster's
//     presenters use it, and the key ring lets a generation go only then.
// What each cluster holds is what its workload stack's last successful up
// reports in its ledger (written once its roll-outs finished), read through
// Pulumi (StackReference), never a coordinator of our own.

import { z } from "zod";
import { ConfigIssue, configKey } from "./errors";
import { nameMap } from "./schema";
import { describePoint, heldView, ledgerView, specView, SecretView } from "./stages";
import { ClusterStanding, Ledger, LedgerEntry, SecretSpec, StackSpec } from "./types";
import type { KeyRingSecrets } from "./config";

/** What the key stack exports in plain text (no value): its clusters and each secret's declaration. */
export interface KeyRingExport {
    clusters: string[];
    secrets: KeyRingSecrets;
}

const keyRingSchema = z.object({
    clusters: z.array(z.string().min(1)).min(1),
    // Both levels nameMaps: a plain record drops a `__proto__` field of a secret's declaration without a word.
    secrets: nameMap(z.string(), nameMap(z.string(), z.unknown())),
});

/**
 * The key ring as a workload stack reads it from the key stack's `keyRing`
 * output. Missing (the key stack has not run) or unreadable: refused, naming
 * the key, never read as "no secrets" (that would delete every key here).
 */
export function readKeyRing(raw: unknown, keyStack: string): KeyRingExport | ConfigIssue {
    const at = configKey(["fleet", "keyRing"]);
    if (raw === undefined || raw === null) {
        return {
            key: at,
            found: `${JSON.stringify(keyStack)}, which exports no key ring (its stack has no keyRing output)`,
            allowed: `a key stack (fleet.role keys) after its first pulumi up: run pulumi up -s ${keyStack} first`,
        };
    }
    const parsed = keyRingSchema.safeParse(raw);
    if (!parsed.success) {
        return {
            key: at,
            found: `${JSON.stringify(keyStack)}, whose keyRing output cannot be read (${parsed.error.issues.map((i) => `${i.path.join(".") || "it"}: ${i.message}`).join("; ")})`,
            allowed: "the keyRing output of a key stack of this version of titan-secrets",
        };
    }
    return parsed.data as KeyRingExport;
}

/** One cluster's workload stack as read by another stack: its ledger, or why it cannot be read. */
export interface ClusterReport {
    stack: string;
    /** Its last ledger; undefined when the stack has not run an up yet (it holds nothing). */
    ledger?: Ledger;
    /** Rows (or the whole ledger) that did not parse: refused where they matter (fail closed). */
    unreadable: ReadonlyMap<string, string>;
}

/**
 * The generations a cluster's verifiers and presenters of a secret hold, as
 * its ledger row says. A role with no members there holds nothing (a
 * cluster with only signers blocks no one's presenters).
 */
export function standingOf(row: LedgerEntry, secret: string): ClusterStanding {
    const view = ledgerView(row, secret);
    const members = (m: string[] | undefined, gens: number[]) => (m === undefined || m.length > 0 ? gens : []);
    return {
        verifiers: members(row.verifiers, view.verifier.generations),
        presenters: members(row.presenters, view.presenter.generations),
        stage: row.stage,
        generation: row.generation,
    };
}

/** Each cluster's standing on `secret`: undefined when it has not consumed it yet. */
function standings(reports: ClusterReport[], secret: string, issues: ConfigIssue[], key: string): Map<string, ClusterStanding> {
    const out = new Map<string, ClusterStanding>();
    for (const r of reports) {
        const why = r.unreadable.get(secret) ?? r.unreadable.get("(the whole ledger)");
        if (why !== undefined) {
            issues.push({
                key,
                found: `the ledger of cluster ${r.stack}, whose row for ${secret} cannot be read (${why})`,
                allowed: `a readable row: without it nothing tells what ${r.stack}'s consumers hold, so nothing moves (restore ${r.stack}'s ledger from pulumi stack history)`,
            });
            continue;
        }
        const row = r.ledger && Object.hasOwn(r.ledger, secret) ? r.ledger[secret] : undefined;
        if (row) out.set(r.stack, standingOf(row, secret));
    }
    return out;
}

const gens = (g: number[]) => (g.length > 0 ? g.map((n) => `g${n}`).join("+") : "nothing");

function describeStanding(stack: string, s: ClusterStanding): string {
    return `${stack} (verifiers ${gens(s.verifiers)}, presenters ${gens(s.presenters)}; its last up followed ${describePoint(s)})`;
}

export interface Following {
    /** Secrets whose presenters stay on the previous generation in this up. */
    held: Map<string, number>;
    issues: ConfigIssue[];
    /** Shown as info: what waits for which cluster. */
    notes: string[];
}

/**
 * A workload stack's step for each secret it consumes: its verifiers take
 * the key ring's stage; its presenters follow only once every other
 * cluster's verifiers hold their generation (in an overlap they stay on the
 * previous one until then). Refused, before any resource is declared:
 *   - the presenters' step when the verifiers' step is done here and some
 *     cluster's verifiers are still behind (nothing would change: an up run
 *     too early), naming those clusters;
 *   - a step that would make presenters here use a generation some cluster's
 *     verifiers lack, or make verifiers here drop a generation some
 *     cluster's presenters use, where no holding can help.
 */
export function followKeyRing(spec: StackSpec, previous: Ledger, self: string, keyRing: KeyRingExport, others: ClusterReport[]): Following {
    const held = new Map<string, number>();
    const issues: ConfigIssue[] = [];
    const notes: string[] = [];
    if (!keyRing.clusters.includes(self)) {
        issues.push({
            key: configKey(["fleet", "keyRing"]),
            found: `a key ring whose clusters are ${keyRing.clusters.join(", ")}, without this stack (${self})`,
            allowed: `a key ring that lists ${self} under fleet.clusters, so that it never lets a key go while ${self}'s consumers use it: add it there and run pulumi up on the key stack first`,
        });
        return { held, issues, notes };
    }
    for (const s of spec.secrets.values()) {
        const presentersKey = configKey(["consumers", s.name, "presenters"]);
        const verifiersKey = configKey(["consumers", s.name, "verifiers"]);
        // An emergency cut-over: every cluster at once, whatever the others hold (the plan warns).
        if (s.stage === "compromised") continue;
        const theirs = standings(others, s.name, issues, configKey(["consumers", s.name]));
        const target = specView(s);
        const prev = Object.hasOwn(previous, s.name) ? previous[s.name] : undefined;
        const prevView = prev ? ledgerView(prev, s.name) : undefined;
        const presenterGen = target.presenter.generations[0];
        const behind = [...theirs].filter(([, st]) => st.verifiers.length > 0 && !st.verifiers.includes(presenterGen));
        if (behind.length > 0 && s.presenters.length > 0) {
            const list = behind.map(([stack, st]) => describeStanding(stack, st)).join("; ");
            const stacks = behind.map(([stack]) => stack).join(", ");
            if (s.stage !== "overlap") {
                issues.push({
                    key: presentersKey,
                    found: `presenters that would use generation ${presenterGen} (${describePoint(s)}), which verifiers in ${list} do not hold`,
                    allowed: `this step once every cluster's verifiers hold generation ${presenterGen}: run pulumi up on ${stacks} first`,
                });
                continue;
            }
            const previousGen = s.generation - 1;
            const verifiersDone = prev !== undefined && prev.generation === s.generation && prev.stage === s.stage;
            if (verifiersDone && prev.presentersHeldAt === previousGen) {
                issues.push({
                    key: presentersKey,
                    found: `the presenters' step of ${s.name} in ${self} (to generation ${s.generation}; this cluster's verifiers already hold g${s.generation}+g${previousGen}), while verifiers in ${list} do not hold generation ${s.generation} yet`,
                    allowed: `the presenters' step once every cluster's verifiers hold generation ${s.generation}: run the verifiers' step on ${stacks} first (pulumi up there), then this stack again; rotate run ${s.name} takes the steps in order`,
                });
                continue;
            }
            held.set(s.name, previousGen);
            notes.push(
                `${s.name}: presenters in ${self} stay on g${previousGen} until every cluster's verifiers hold g${s.generation}; behind: ${list}. Run pulumi up on ${self} again after ${stacks}.`,
            );
        }
        const dropped = (prevView?.verifier.generations ?? []).filter((g) => !target.verifier.generations.includes(g));
        if (dropped.length > 0 && s.verifiers.length > 0) {
            const users = [...theirs].filter(([, st]) => st.presenters.some((g) => dropped.includes(g)));
            if (users.length > 0) {
                issues.push({
                    key: verifiersKey,
                    found: `verifiers in ${self} that would stop accepting ${gens(dropped)} (${describePoint(s)}), which presenters in ${users.map(([stack, st]) => describeStanding(stack, st)).join("; ")} still use`,
                    allowed: `this step once no cluster's presenters use ${gens(dropped)}: run pulumi up on ${users.map(([stack]) => stack).join(", ")} first`,
                });
            }
        }
    }
    return { held, issues, notes };
}

/** The view a workload stack gives a secret in this up: the key ring's, with presenters held where `followKeyRing` says. */
export function followedView(s: SecretSpec, held: number | undefined): SecretView {
    const view = specView(s);
    return held === undefined ? view : heldView(view, held, (g) => (g === s.generation ? s.keyId : s.previousKeyId));
}

/**
 * The key ring's guard: a generation leaves the ring (stable after an
 * overlap or a revert) only once no cluster's presenters use it. A
 * compromised key leaves at once (the plan warns). Also returns where each
 * cluster stands, for the key stack's ledger.
 */
export function keyRingGuard(
    spec: StackSpec,
    previous: Ledger,
    reports: ClusterReport[],
): { issues: ConfigIssue[]; standings: Map<string, Record<string, ClusterStanding>> } {
    const issues: ConfigIssue[] = [];
    const bySecret = new Map<string, Record<string, ClusterStanding>>();
    for (const s of spec.secrets.values()) {
        const key = configKey(["secrets", s.name, "stage"]);
        const prev = Object.hasOwn(previous, s.name) ? previous[s.name] : undefined;
        const leaving = prev ? ledgerView(prev, s.name).live.filter((g) => !specView(s).live.includes(g)) : [];
        const probe: ConfigIssue[] = [];
        const theirs = standings(reports, s.name, probe, key);
        if (leaving.length > 0 && s.stage !== "compromised") issues.push(...probe);
        bySecret.set(s.name, Object.fromEntries(theirs));
        if (leaving.length === 0 || s.stage === "compromised") continue;
        const users = [...theirs].filter(([, st]) => st.presenters.some((g) => leaving.includes(g)));
        if (users.length > 0) {
            issues.push({
                key,
                found: `${describePoint(s)}, which takes ${gens(leaving)} out of the key ring while presenters in ${users.map(([stack, st]) => describeStanding(stack, st)).join("; ")} still use it`,
                allowed: `${describePoint(s)} once every cluster's presenters have left ${gens(leaving)}: run pulumi up on ${users.map(([stack]) => stack).join(", ")} first (each waits for the others' verifiers), then here`,
            });
        }
    }
    // A secret leaves the ring only once no cluster consumes it (each removes it first: removeSecrets there).
    for (const name of Object.keys(previous)) {
        if (spec.secrets.has(name)) continue;
        const users = reports.filter((r) => r.unreadable.has(name) || (r.ledger !== undefined && Object.hasOwn(r.ledger, name)));
        if (users.length > 0) {
            issues.push({
                key: configKey(["secrets", name]),
                found: `its removal from the key ring while ${users.map((r) => r.stack).join(", ")} still consume it`,
                allowed: `the removal once no cluster consumes it: in each, drop it from consumers and list it under removeSecrets, pulumi up there, then here`,
            });
        }
    }
    return { issues, standings: bySecret };
}
