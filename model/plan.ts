// planRotation: every decision of one `pulumi up`, made before any resource
// is declared. The components only turn this plan into resources.

import { formatConsumes, formatStages } from "./annotations";
import { ConfigError, ConfigIssue, configKey, configPath } from "./errors";
import { clockBehind, emptyLedger, freshKeyId, isOverdue, lastRecord, ledgerEntry } from "./ledger";
import { ExchangeKeyPresence, checkExchangeKeys } from "./exchangeKeys";
import { Following, followedView } from "./fleet";
import {
    Consumption,
    Dropped,
    Edge,
    Removal,
    SecretTransition,
    backendNode,
    changedWorkloads,
    checkAcyclic,
    consumptions,
    droppedConsumptions,
    removalEdges,
    rolloutEdges,
    verifierNodes,
    waves,
} from "./rollout";
import { SecretView, checkTransition, describePoint, forcedGuards, ledgerView, specView } from "./stages";
import { Ledger, LedgerEntry, Role, SecretSpec, ServiceSpec, StackSpec } from "./types";

export interface SecretPlan {
    spec: SecretSpec;
    view: SecretView;
    previous?: LedgerEntry;
    previousView?: SecretView;
    /** The (generation, stage) differs from the ledger's, or the ledger has none. */
    moving: boolean;
    /** Per role, the workloads its Kubernetes Secret object waits for. */
    secretObjectDependsOn: Record<Role, string[]>;
    entry: LedgerEntry;
}

export interface WorkloadPlan {
    service: ServiceSpec;
    consumes: Consumption[];
    /** What it stops consuming in this up (a removed secret, a role taken away). */
    drops: Dropped[];
    /** Its pod template changes because of a secret. */
    changed: boolean;
    /** Workloads that must finish rolling out first (the waves; the resources carry it through Secret objects). */
    dependsOn: string[];
    /** Workloads it must wait for directly, because no Secret object it reads carries the order (a removal). */
    dependsOnDirect: string[];
    /** Pod template annotation: what it holds, by generation. Changes iff the data does. */
    consumesAnnotation: string;
    /** Deployment annotation: the stage of each secret it consumes (no roll). */
    stagesAnnotation: string;
}

export interface Plan {
    secrets: SecretPlan[];
    workloads: WorkloadPlan[];
    /** Secrets removed in this up (removeSecrets): their consumers roll without them, presenters first. */
    removals: Removal[];
    edges: Edge[];
    waves: string[][];
    ledger: Ledger;
    /** Shown as warnings in preview and up. */
    warnings: string[];
    /** Shown as info: what this up does to each moving rotation. */
    summary: string[];
}

/**
 * Decides everything for one up: validates each secret's transition against
 * the ledger (throws ConfigError with every problem), computes views, edges
 * (throws on a cycle), waves, annotations, the new ledger and the messages.
 * `unreadable` holds the last ledger's rows that did not parse: such a
 * secret is not moved until a person acknowledges it (fail closed).
 */
export function planRotation(
    spec: StackSpec,
    previous: Ledger,
    now: Date,
    unreadable: ReadonlyMap<string, string> = new Map(),
    follow?: Following,
): Plan {
    const issues: ConfigIssue[] = [
        ...clockIssues(spec, previous, now),
        ...unreadableRows(spec, unreadable),
        ...removedSecrets(spec, previous),
        ...(follow?.issues ?? []),
    ];
    const transitions: SecretTransition[] = [];
    if (!follow) issues.push(...keyIdsOfOtherSecrets(spec, previous));
    for (const s of spec.secrets.values()) {
        const prev = rowOf(previous, s.name);
        // A workload stack follows its key ring, which checked the step and
        // its guards; here the fleet's rule decides (followKeyRing).
        if (!follow) issues.push(...checkTransition(prev, s, now));
        transitions.push({
            spec: s,
            previous: prev && ledgerView(prev, s.name),
            next: follow ? followedView(s, follow.held.get(s.name)) : specView(s),
            previousMembers: prev?.verifiers && prev.presenters ? { verifier: prev.verifiers, presenter: prev.presenters } : undefined,
        });
    }
    if (issues.length > 0) throw new ConfigError(issues);

    const removals: Removal[] = [...spec.removed].flatMap((name) => {
        const prev = rowOf(previous, name);
        return prev?.verifiers && prev.presenters
            ? [{ secret: name, members: { verifier: prev.verifiers, presenter: prev.presenters } }]
            : [];
    });
    const cons = consumptions(spec.services.keys(), transitions);
    const dropped = droppedConsumptions(transitions, removals);
    const changed = changedWorkloads(cons, dropped); // services and AWS backend nodes
    const removalOrder = removalEdges(removals, cons);
    const edges = [...rolloutEdges(transitions, cons), ...removalOrder];
    checkAcyclic(edges);
    const order = waves(changed, edges);

    const secrets: SecretPlan[] = transitions.map((t) => {
        const prev = rowOf(previous, t.spec.name);
        const depsOf = (role: Role) => {
            const members = new Set(role === "verifier" ? verifierNodes(t.spec) : t.spec.presenters);
            const deps = edges.filter((e) => e.secret === t.spec.name && members.has(e.from)).map((e) => e.to);
            // A cluster of a fleet in an overlap: its presenters' object waits for every verifier of
            // this cluster, rolled in this up or an earlier one (the presenters' step comes after
            // the verifiers' step, possibly in another up; the graph says so either way).
            if (follow && role === "presenter" && t.spec.stage === "overlap" && !follow.held.has(t.spec.name))
                deps.push(...verifierNodes(t.spec));
            return [...new Set(deps)].sort();
        };
        const forced = [...forcedGuards(prev, t.spec, now), ...(unreadable.has(t.spec.name) ? ["unreadable ledger row"] : [])];
        return {
            spec: t.spec,
            view: t.next,
            previous: prev,
            previousView: t.previous,
            moving: prev === undefined || prev.generation !== t.spec.generation || prev.stage !== t.spec.stage,
            secretObjectDependsOn: { verifier: depsOf("verifier"), presenter: depsOf("presenter") },
            entry: ledgerEntry(t.spec, t.next, prev, now, { forced, presentersHeldAt: follow?.held.get(t.spec.name) }),
        };
    });

    const workloads: WorkloadPlan[] = [...spec.services.values()].map((service) => {
        const consumes = (cons.get(service.name) ?? []).slice().sort((a, b) => a.secret.localeCompare(b.secret));
        return {
            service,
            consumes,
            drops: dropped.get(service.name) ?? [],
            changed: changed.has(service.name),
            dependsOn: [...new Set(edges.filter((e) => e.from === service.name).map((e) => e.to))].sort(),
            dependsOnDirect: [...new Set(removalOrder.filter((e) => e.from === service.name).map((e) => e.to))].sort(),
            consumesAnnotation: formatConsumes(consumes.map((c) => ({ secret: c.secret, role: c.role, generations: c.view.generations }))),
            stagesAnnotation: formatStages(
                consumes.map((c) => {
                    const s = spec.secrets.get(c.secret)!;
                    return { secret: c.secret, stage: s.stage, generation: s.generation };
                }),
            ),
        };
    });

    const ledger = emptyLedger();
    for (const s of secrets) ledger[s.spec.name] = s.entry;
    return {
        secrets,
        workloads,
        removals,
        edges,
        waves: order,
        ledger,
        warnings: [...warningsFor(secrets, now), ...removalWarnings(spec, previous)],
        summary: [
            ...summaryFor(secrets, workloads, order),
            ...removalSummary(removals, previous, workloads, order),
            ...(follow?.notes ?? []),
        ],
    };
}

/** A ledger row by name, own properties only (a secret may be called `constructor`). */
function rowOf(ledger: Ledger, name: string): LedgerEntry | undefined {
    return Object.hasOwn(ledger, name) ? ledger[name] : undefined;
}

/** Where a stack declares its secrets: a workload stack names only its consumers of the key ring's (`consumers`). */
function secretsRoot(spec: StackSpec): "secrets" | "consumers" {
    return spec.fleet.role === "workloads" ? "consumers" : "secrets";
}

/**
 * A new key never takes a key ID that a key of another secret had, live at
 * the last up or retired since (the ledger's keys and retiredKeyIds, compared
 * ignoring case): verifiers and logs name a key by it. The config check
 * (configNames.ts checkKeyIds) sees only the key IDs declared now, and
 * checkTransition only this secret's own retired ones.
 */
function keyIdsOfOtherSecrets(spec: StackSpec, previous: Ledger): ConfigIssue[] {
    const had = new Map<string, { secret: string; keyId: string; retired: boolean }>();
    for (const [secret, row] of Object.entries(previous)) {
        for (const k of row.keys) had.set(k.keyId.toLowerCase(), { secret, keyId: k.keyId, retired: false });
        for (const r of row.retiredKeyIds ?? [])
            if (!had.has(r.toLowerCase())) had.set(r.toLowerCase(), { secret, keyId: r, retired: true });
    }
    const issues: ConfigIssue[] = [];
    for (const s of spec.secrets.values()) {
        const prev = rowOf(previous, s.name);
        for (const g of specView(s).live) {
            if (prev?.keys.some((k) => k.generation === g)) continue; // not a new key: checkTransition holds its key ID
            const field = g === s.generation ? "keyId" : "previousKeyId";
            const keyId = g === s.generation ? s.keyId : s.previousKeyId;
            const other = had.get(keyId.toLowerCase());
            if (other === undefined || other.secret === s.name) continue;
            issues.push({
                key: configKey(["secrets", s.name, field]),
                found: `${JSON.stringify(keyId)} for the new key of generation ${g}, the key ID of a key of secret ${JSON.stringify(other.secret)} (${other.retired ? "retired" : "live at the last up"}: ${JSON.stringify(other.keyId)}, compared ignoring case)`,
                allowed: "a key ID that no key of another secret ever had (verifiers and logs name a key by it)",
                fix: `pulumi config set --path '${configPath(["secrets", s.name, field])}' ${freshKeyId(s.name, g, prev?.retiredKeyIds)}`,
            });
        }
    }
    return issues;
}

/** The last ledger's rows that did not parse: refused unless `force` (or the removal) acknowledges them. */
/**
 * A clock earlier than the ledger's last record: every time this up writes
 * (a stage applied, a key created, a force) would come before what the
 * ledger already holds, and the overlap guard would measure backwards.
 */
function clockIssues(spec: StackSpec, previous: Ledger, now: Date): ConfigIssue[] {
    const behind = clockBehind(previous, now);
    const last = lastRecord(previous);
    if (behind === undefined || last === undefined) return [];
    return [
        {
            key: configKey([secretsRoot(spec), last.secret]),
            found: behind,
            allowed: `a clock at or after ${last.at}: a stage is never recorded as applied before the last one, nor a key used before it existed`,
            fix: "set this machine's clock right (timedatectl; a CI runner's clock is the provider's), then run the up again",
        },
    ];
}

/**
 * The last ledger's unreadable rows that this config does not acknowledge
 * (with `force` on the secret, or its removal in removeSecrets): the program
 * moves nothing while one is left, and `rotate` says it cannot read them.
 */
export function unacknowledgedRows(spec: StackSpec, unreadable: ReadonlyMap<string, string>): [string, string][] {
    return [...unreadable].filter(([name]) => !(spec.secrets.get(name)?.force || spec.removed.has(name)));
}

function unreadableRows(spec: StackSpec, unreadable: ReadonlyMap<string, string>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const [name, why] of unacknowledgedRows(spec, unreadable)) {
        issues.push({
            key: configKey([secretsRoot(spec), name]),
            found: `a row of the last up's ledger that cannot be read (${why})`,
            allowed: "a readable row: without it the program cannot check this secret's step or its guards, so it moves nothing",
            fix: `restore the ledger (pulumi stack history; pulumi stack export of the last good version, then import), or acknowledge it for one up: pulumi config set --path '${configPath(["secrets", name, "force"])}' true (the plan and the ledger record it)`,
        });
    }
    return issues;
}

/**
 * Secrets the last up applied that the config no longer declares. Removing
 * one deletes its keys and changes every consumer, so it must be announced
 * in removeSecrets (reviewed in the same change), from a stage with one live
 * key, and from a row that records its consumers.
 */
export function removedSecrets(spec: StackSpec, previous: Ledger): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const name of Object.keys(previous)) {
        if (spec.secrets.has(name)) continue;
        const prev = previous[name];
        const at = configKey([secretsRoot(spec), name]);
        if (!spec.removed.has(name)) {
            issues.push({
                key: at,
                found: `nothing, but the last up applied ${describePoint(prev)}${prev.presenters ? ` (verifiers ${prev.verifiers?.join(", ") || "none"}; presenters ${prev.presenters.join(", ") || "none"})` : ""}`,
                allowed: `the secret as it was, or its removal announced in ${configKey(["removeSecrets"])}: its consumers then roll without it (presenters first) and its keys and Secret objects are deleted`,
                fix: `pulumi config set --path 'removeSecrets[${spec.removed.size}]' ${name}`,
            });
        } else if (prev.stage !== "stable" && prev.stage !== "compromised") {
            issues.push({
                key: at,
                found: `its removal while it is ${describePoint(prev)}, with two keys live`,
                allowed: "a removal from stable (or compromised): finish the rotation (stable) or go back (revert, then stable) first",
            });
        } else if (prev.verifiers === undefined || prev.presenters === undefined) {
            issues.push({
                key: at,
                found: "its removal, but the last ledger row does not record its consumers (it was written by an older version)",
                allowed: "a removal after one up that records them: restore the secret's config, run pulumi up, then remove it",
            });
        }
    }
    return issues;
}

function removalWarnings(spec: StackSpec, previous: Ledger): string[] {
    return [...spec.removed]
        .filter((name) => !Object.hasOwn(previous, name))
        .map(
            (name) =>
                `${configKey(["removeSecrets"])} lists ${JSON.stringify(name)}, which the last up no longer had: the removal is done, remove the entry.`,
        );
}

function removalSummary(removals: Removal[], previous: Ledger, workloads: WorkloadPlan[], order: string[][]): string[] {
    const waveOf = new Map<string, number>();
    order.forEach((wave, i) => wave.forEach((w) => waveOf.set(w, i + 1)));
    const known = new Set(workloads.map((w) => w.service.name));
    const list = (svcs: string[]) =>
        svcs
            .filter((s) => known.has(s))
            .map((s) => `${s} (wave ${waveOf.get(s)})`)
            .join(", ") || "none";
    return removals.map(
        (r) =>
            `${r.secret}: REMOVED (was ${describePoint(previous[r.secret])}). Presenters stop using it first: ${list(r.members.presenter)}. ` +
            `Then verifiers stop accepting it: ${list(r.members.verifier)}. Then its keys and Secret objects are deleted.`,
    );
}

/**
 * The order the program's resources carry, and TitanSecrets declares exactly
 * this: each role's Secret object waits for the nodes in
 * `secretObjectDependsOn`, and a Deployment waits for the Secret objects it
 * reads. So per workload, the nodes it waits for are the union over what it
 * consumes. The object is the barrier: N verifiers and M presenters of an
 * overlap make N + M edges, not the plan's N x M pairs (which the cycle
 * check and the waves still use).
 */
export function declaredOrder(plan: Plan): Map<string, Set<string>> {
    const secrets = new Map(plan.secrets.map((p) => [p.spec.name, p]));
    return new Map(
        plan.workloads.map((w) => [
            w.service.name,
            new Set([...w.consumes.flatMap((c) => secrets.get(c.secret)!.secretObjectDependsOn[c.role]), ...w.dependsOnDirect]),
        ]),
    );
}

/** Edges of the declared resource graph: object -> node, and Deployment -> object, for the objects that wait for something. */
export function declaredEdgeCount(plan: Plan): number {
    const objectEdges = plan.secrets.reduce(
        (n, p) => n + p.secretObjectDependsOn.verifier.length + p.secretObjectDependsOn.presenter.length,
        0,
    );
    const readers = plan.workloads.reduce(
        (n, w) =>
            n +
            w.consumes.filter((c) => plan.secrets.find((p) => p.spec.name === c.secret)!.secretObjectDependsOn[c.role].length > 0).length,
        0,
    );
    return objectEdges + readers;
}

function warningsFor(secrets: SecretPlan[], now: Date): string[] {
    const out: string[] = [];
    for (const p of secrets) {
        const s = p.spec;
        if (p.entry.forced && p.entry.forced.at === now.toISOString()) {
            out.push(
                `FORCED ${s.name}: ${describePoint(s)} passed ${p.entry.forced.guards.join(" and ")} because force is true; the ledger records it. ` +
                    `Remove force from the config after this up: pulumi config rm --path '${configPath(["secrets", s.name, "force"])}'`,
            );
        }
        if (s.stage === "compromised" && p.moving) {
            const dropped = (p.previousView?.live ?? []).filter((g) => g !== s.generation);
            out.push(
                `COMPROMISED ${s.name} (incident ${s.incident}): ` +
                    (dropped.length > 0 ? `generation ${dropped.join(" and ")} is dropped` : "only this generation is kept") +
                    ` at once from every verifier, presenter and store, with no ordering. Requests authenticated with the old key fail until every ` +
                    `workload has restarted: auth failures are expected during this up (watch auth_failures).` +
                    (s.kind === "apiKey" && dropped.length > 0
                        ? ` The old key still works at ${s.exchange} until you revoke it there: REVOKE generation ${dropped.join(" and ")} AT ${s.exchange!.toUpperCase()} NOW.`
                        : ""),
            );
        }
        if (s.kind === "apiKey") {
            for (const k of p.entry.pendingRevocations ?? []) {
                out.push(
                    `MANUAL STEP ${s.name}: revoke generation ${k.generation} (key ID ${k.keyId}) at ${s.exchange}; it is still valid there. ` +
                        `Then record it: pulumi config set --path '${configPath(["secrets", s.name, "revoked", s.revoked.length])}' ${k.generation}`,
                );
            }
        }
        if (s.kind === "apiKey" && s.stage === "overlap" && !s.verification && p.moving) {
            out.push(
                `${s.name} has no verification: nothing proves generation ${s.generation} works at ${s.exchange} before stable retires generation ${s.generation - 1}.`,
            );
        }
        const node = backendNode(s);
        if (
            s.kind === "password" &&
            s.backend.type === "rds" &&
            s.stage === "stable" &&
            p.previous !== undefined &&
            p.previous.generation !== s.generation
        ) {
            out.push(
                `SINGLE-SLOT ${s.name}: the ${s.backend.type} ${s.backend.identifier} holds one password, so logins with generation ${p.previous.generation} fail ` +
                    `from the moment ${node} takes generation ${s.generation} until each presenter pod has restarted (${s.presenters.join(", ") || "no presenters"}), as docs/runbook.md section 2 accepts. ` +
                    `A backend that holds two credentials (ElastiCache, Redis ACL users, NATS users) rotates with none.`,
            );
        }
        if (s.stage === "stable" && isOverdue(p.entry, now)) {
            out.push(
                `${s.name} is overdue for rotation: generation ${s.generation} reached maxAgeDays (${s.maxAgeDays}) at ${p.entry.dueAt}. Start with stage overlap at generation ${s.generation + 1}.`,
            );
        }
    }
    return out;
}

function summaryFor(secrets: SecretPlan[], workloads: WorkloadPlan[], order: string[][]): string[] {
    const out: string[] = [];
    const waveOf = new Map<string, number>();
    order.forEach((wave, i) => wave.forEach((w) => waveOf.set(w, i + 1)));
    for (const p of secrets) {
        const from = p.previous ? describePoint(p.previous) : "not in the ledger";
        const rolling = workloads.filter((w) => w.consumes.some((c) => c.secret === p.spec.name && c.changed));
        const dropping = workloads.filter((w) => w.drops.some((d) => d.secret === p.spec.name));
        const node = backendNode(p.spec);
        const nodeMoves = node !== undefined && waveOf.has(node);
        if (!p.moving && rolling.length === 0 && dropping.length === 0 && !nodeMoves) continue;
        const byRole = (role: Role) => [
            ...(role === "verifier" && nodeMoves ? [`${node} (wave ${waveOf.get(node)})`] : []),
            ...rolling
                .filter((w) => w.consumes.some((c) => c.secret === p.spec.name && c.role === role))
                .map((w) => `${w.service.name} (wave ${waveOf.get(w.service.name)})`),
        ];
        const holding = (role: Role) => p.view[role].generations.map((g) => `g${g}`).join("+");
        const unchanged = workloads.filter((w) => !w.changed).map((w) => w.service.name);
        out.push(
            `${p.spec.name}: ${from} -> ${describePoint(p.spec)}. ` +
                `Verifiers to ${holding("verifier")}: ${byRole("verifier").join(", ") || "none restart"}. ` +
                `Presenters to ${holding("presenter")}: ${byRole("presenter").join(", ") || "none restart"}. ` +
                (dropping.length > 0
                    ? `No longer consuming it: ${dropping.map((w) => `${w.service.name} (wave ${waveOf.get(w.service.name)})`).join(", ")}. `
                    : "") +
                `Not restarted: ${unchanged.join(", ") || "none"}.`,
        );
    }
    return out;
}

/**
 * Everything the program checks before it declares a resource: the exchange
 * keys every live API-key generation needs, then the plan (stages against the
 * ledger, guards, removals). The program and `rotate` both call this, so the
 * tool refuses exactly what the program refuses; all problems are reported
 * together.
 */
export function admitRotation(
    spec: StackSpec,
    previous: Ledger,
    now: Date,
    exchange: ExchangeKeyPresence,
    unreadable: ReadonlyMap<string, string> = new Map(),
    follow?: Following,
): Plan {
    const issues = checkExchangeKeys(spec, exchange.present, exchange.storedAsSecret);
    let plan: Plan | undefined;
    try {
        plan = planRotation(spec, previous, now, unreadable, follow);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        issues.push(...e.issues);
    }
    if (issues.length > 0 || plan === undefined) throw new ConfigError(issues);
    return plan;
}
