// The policy pack's decisions, as pure functions over the resources a stack
// validation sees (type, URN, name, props, dependencies). No @pulumi/policy
// import here: policies.ts wires these to PolicyPack callbacks, and tests
// call them on plain objects.
//
// How the pack learns ages: from the stack's own `ledger` output, which the
// program computes in this very preview (planRotation: the key creation
// times carried over from the last up, `dueAt` = the presenters' key's
// creation + maxAgeDays). The previous ledger, needed to tell which
// Deployments change in this up, is the program's StackReference to its own
// stack (`ledger-of-last-up`), whose outputs the engine reads in preview too.

import {
    ANNOTATION_CONSUMES,
    ANNOTATION_STAGES,
    DAY_MS,
    Held,
    KIND_DEFAULTS,
    Ledger,
    LedgerEntry,
    Role,
    Stage,
    StageMark,
    describePoint,
    dueDate,
    ledgerView,
    parseConsumes,
    parseStages,
    presenterKey,
    readLedger,
    WORKLOAD_TYPES,
} from "../model";

export const STACK_TYPE = "pulumi:pulumi:Stack";
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";
export const SECRET_TYPE = "kubernetes:core/v1:Secret";
export const CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap";
export const LEDGER_REFERENCE_NAME = "ledger-of-last-up";

/** What a stack validation knows of a resource (a subset of @pulumi/policy's PolicyResource). */
export interface StackResource {
    type: string;
    urn: string;
    name: string;
    props: Record<string, unknown>;
    dependencies: { urn: string }[];
}

export interface Finding {
    message: string;
    urn?: string;
}

/** Per kind, the age after which a secret must be rotated: the program's defaults (docs/runbook.md, how often: 90 days for HMAC and API keys, 180 for service passwords). */
export const DEFAULT_MAX_AGE_DAYS: Record<string, number> = Object.fromEntries(
    Object.entries(KIND_DEFAULTS).map(([kind, d]) => [kind, d.maxAgeDays]),
);
export const DEFAULT_DUE_SOON_DAYS = 14;

/** The stack name from a URN: urn:pulumi:<stack>::<project>::<type>::<name>. */
export function stackOfUrn(urn: string): string | undefined {
    return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

function get(obj: unknown, ...path: string[]): unknown {
    let v: unknown = obj;
    for (const p of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string, unknown>)[p];
    }
    return v;
}

export interface Ledgers {
    /** The ledger this up exports (the Stack resource's `ledger` output). */
    next?: Ledger;
    /** The ledger of the last up (the StackReference's outputs); {} on a stack's first up. */
    previous?: Ledger;
    /** Rows of `next` that do not parse (secret -> why): their ages cannot be checked, which is a finding, never a pass. */
    unreadable?: Map<string, string>;
    stack?: string;
}

export function ledgersOf(resources: StackResource[]): Ledgers {
    const out: Ledgers = {};
    const stack = resources.find((r) => r.type === STACK_TYPE);
    if (stack) {
        out.stack = stackOfUrn(stack.urn);
        if (stack.props.ledger !== undefined) {
            const read = readLedger(stack.props.ledger);
            out.next = read.ledger;
            if (read.unreadable.size > 0) out.unreadable = read.unreadable;
        }
    }
    const refs = resources.filter((r) => r.type === STACK_REFERENCE_TYPE);
    const ref = refs.find((r) => r.name === LEDGER_REFERENCE_NAME) ?? refs.find((r) => get(r.props, "outputs", "ledger") !== undefined);
    if (ref) out.previous = readLedger(get(ref.props, "outputs", "ledger")).ledger;
    return out;
}

export interface AgeLimits {
    now: Date;
    maxAgeDays?: Record<string, number>;
    dueSoonDays?: number;
}

interface Age {
    secret: string;
    entry: LedgerEntry;
    createdAt: string;
    ageDays: number;
    due: Date;
    /** Why that due date: the stack's maxAgeDays or the policy's ceiling for the kind. */
    limit: string;
}

function ageOf(secret: string, entry: LedgerEntry, limits: AgeLimits): Age | undefined {
    const key = presenterKey(entry);
    if (!key) return undefined;
    const born = Date.parse(key.createdAt);
    const ceilingDays = { ...DEFAULT_MAX_AGE_DAYS, ...(limits.maxAgeDays ?? {}) }[entry.kind];
    const stackDue = Date.parse(entry.dueAt);
    const ceilingDue = ceilingDays === undefined ? Infinity : dueDate(key.createdAt, ceilingDays).getTime();
    const byCeiling = ceilingDue < stackDue;
    return {
        secret,
        entry,
        createdAt: key.createdAt,
        ageDays: Math.floor((limits.now.getTime() - born) / DAY_MS),
        due: new Date(byCeiling ? ceilingDue : stackDue),
        limit: byCeiling ? `the policy's maxAgeDays for ${entry.kind} (${ceilingDays})` : "maxAgeDays in the stack config",
    };
}

/**
 * Mandatory: a secret whose presenters' key is past its maximum age and that
 * this up does not rotate. A rotation in progress (overlap, revert) or an
 * emergency (compromised) is never blocked by its age.
 */
export function overdueFindings(ledgers: Ledgers, limits: AgeLimits): Finding[] {
    const out: Finding[] = [];
    // A row this pack cannot read (another version of the program wrote it) or whose presenters'
    // key it cannot find has an age nobody checked: that is a finding, never a pass.
    for (const [secret, why] of ledgers.unreadable ?? []) {
        out.push({
            message:
                `cannot read the ledger row of ${secret} that this up exports (${why}), so its age cannot be checked. ` +
                `Run the policy pack of the same version as the program (policy/ in the same commit).`,
        });
    }
    for (const [secret, entry] of Object.entries(ledgers.next ?? {})) {
        if (entry.stage !== "stable") continue;
        const age = ageOf(secret, entry, limits);
        if (!age) {
            out.push({
                message: `the ledger row of ${secret} names the presenters' key ${entry.presenterKeyId}, which is not among its keys, so its age cannot be checked.`,
            });
            continue;
        }
        if (age.due.getTime() > limits.now.getTime()) continue;
        const stack = ledgers.stack ? ` --stack ${ledgers.stack}` : "";
        out.push({
            message:
                `${secret} is overdue for rotation: its key ${entry.presenterKeyId} (generation ${presenterGeneration(entry)}) was created ${age.createdAt}, ` +
                `${age.ageDays} days ago, and was due ${age.due.toISOString()} (${age.limit}). ` +
                `Rotate it in this change (npm run rotate -- advance ${secret}${stack}) or in one merged before it.`,
        });
    }
    return out;
}

/** Advisory: a stable secret due within `dueSoonDays`. */
export function dueSoonFindings(ledgers: Ledgers, limits: AgeLimits): Finding[] {
    const days = limits.dueSoonDays ?? DEFAULT_DUE_SOON_DAYS;
    const out: Finding[] = [];
    for (const [secret, entry] of Object.entries(ledgers.next ?? {})) {
        if (entry.stage !== "stable") continue;
        const age = ageOf(secret, entry, limits);
        if (!age) continue;
        const left = age.due.getTime() - limits.now.getTime();
        if (left <= 0 || left > days * DAY_MS) continue;
        out.push({
            message: `${secret} is due for rotation on ${age.due.toISOString()} (in ${Math.ceil(left / DAY_MS)} days, ${age.limit}); plan its rotation (npm run rotate -- status).`,
        });
    }
    return out;
}

function presenterGeneration(e: LedgerEntry): number {
    return presenterKey(e)?.generation ?? e.generation;
}

/** Mandatory: `compromised` with no incident, in the ledger or on a Deployment. */
export function incidentFindings(ledgers: Ledgers): Finding[] {
    return Object.entries(ledgers.next ?? {})
        .filter(([, e]) => e.stage === "compromised" && !e.incident)
        .map(([secret, e]) => ({
            message: `${secret} is compromised at generation ${e.generation} with no incident: name it (npm run rotate -- compromise ${secret} --incident <ID>, or set secrets.${secret}.incident) so the emergency rotation can be traced.`,
        }));
}

interface DeploymentView {
    resource: StackResource;
    consumes: Held[];
    stages: StageMark[];
}

/**
 * The Deployments with their annotations read (model/annotations.ts). One
 * whose annotation is not what the program writes is a finding of its own:
 * the order check cannot see what it holds, so it must not pass it.
 */
function deploymentsOf(resources: StackResource[]): { views: DeploymentView[]; unreadable: Finding[] } {
    const views: DeploymentView[] = [];
    const unreadable: Finding[] = [];
    for (const resource of resources.filter((r) => WORKLOAD_TYPES.includes(r.type))) {
        const rawConsumes = get(resource.props, "spec", "template", "metadata", "annotations", ANNOTATION_CONSUMES);
        const rawStages = get(resource.props, "metadata", "annotations", ANNOTATION_STAGES);
        const consumes = parseConsumes(rawConsumes);
        const stages = parseStages(rawStages);
        if (consumes === undefined || stages === undefined) {
            const which = consumes === undefined ? ANNOTATION_CONSUMES : ANNOTATION_STAGES;
            unreadable.push({
                urn: resource.urn,
                message: `${resource.name}: its ${which} annotation is not in the form titan-secrets writes, so the roll-out order cannot be checked; remove the hand edit (the program writes it).`,
            });
            continue;
        }
        views.push({ resource, consumes, stages });
    }
    return { views, unreadable };
}

/** Whether `from` depends on `to`, directly or through other resources (Pulumi waits for either). */
export function dependsOn(resources: StackResource[], from: string, to: string): boolean {
    const deps = new Map(resources.map((r) => [r.urn, r.dependencies.map((d) => d.urn)]));
    const seen = new Set<string>();
    const stack = [...(deps.get(from) ?? [])];
    while (stack.length > 0) {
        const u = stack.pop()!;
        if (u === to) return true;
        if (seen.has(u)) continue;
        seen.add(u);
        stack.push(...(deps.get(u) ?? []));
    }
    return false;
}

const label = (d: DeploymentView) => (get(d.resource.props, "metadata", "name") as string | undefined) ?? d.resource.name;
const gens = (g: number[]) => g.map((x) => `g${x}`).join(",");

/**
 * Mandatory: in an `overlap` every presenter Deployment whose pod template
 * changes (it takes the new generation in this up) depends on every verifier
 * Deployment of that secret whose template changes (`revert`: the other way
 * round). A Deployment "changes" when the generations it consumes differ from
 * what its role held at the last up (the previous ledger); only such pairs
 * need an edge, as the program adds edges only between changing workloads.
 */
export function orderFindings(resources: StackResource[], ledgers: Ledgers): Finding[] {
    const { views: deployments, unreadable } = deploymentsOf(resources);
    const previous = ledgers.previous ?? {};
    const out: Finding[] = [...unreadable];
    const secrets = new Map<string, { stage: Stage; generation: number }>();
    for (const d of deployments) for (const m of d.stages) secrets.set(m.secret, m);
    for (const [secret, point] of secrets) {
        if (point.stage !== "overlap" && point.stage !== "revert") continue;
        const [first, then]: Role[] = point.stage === "overlap" ? ["verifier", "presenter"] : ["presenter", "verifier"];
        const prev = previous[secret];
        const before = prev && ledgerView(prev, secret);
        const changing = (role: Role) =>
            deployments.flatMap((d) =>
                d.consumes
                    .filter(
                        (c) =>
                            c.secret === secret &&
                            c.role === role &&
                            (before === undefined || gens(before[role].generations) !== gens(c.generations)),
                    )
                    .map((c) => ({ d, c })),
            );
        const firsts = changing(first);
        for (const { d: after, c } of changing(then)) {
            for (const { d: dep, c: depC } of firsts) {
                if (dependsOn(resources, after.resource.urn, dep.resource.urn)) continue;
                out.push({
                    urn: after.resource.urn,
                    message:
                        `${label(after)} (${then} of ${secret}, ${describePoint(point)}) rolls to ${gens(c.generations)} without depending on ${label(dep)} ` +
                        `(${first}, rolling to ${gens(depC.generations)} in the same up): ${then === "presenter" ? "a presenter could use the new key before every verifier accepts it" : "a verifier could drop the key a presenter still uses"}. ` +
                        `Its Deployment needs dependsOn the ${label(dep)} Deployment (TitanSecrets adds it from planRotation's edges).`,
                });
            }
        }
    }
    return out;
}

/**
 * Advisory: a rotation that will fail logins because its verifier holds one
 * credential at a time, recognised by the step itself (stable N -> stable
 * N+1 is legal only for a single-slot backend).
 */
export function singleSlotFindings(ledgers: Ledgers): Finding[] {
    const out: Finding[] = [];
    for (const [secret, next] of Object.entries(ledgers.next ?? {})) {
        const prev = ledgers.previous?.[secret];
        if (!prev || prev.presenterKeyId === next.presenterKeyId) continue;
        const stableToStable = prev.stage === "stable" && next.stage === "stable" && next.generation === prev.generation + 1;
        if (!stableToStable) continue;
        out.push({
            message:
                `${secret} moves from ${describePoint(prev)} to ${describePoint(next)} on a verifier that holds one credential at a time: ` +
                `logins with ${prev.presenterKeyId} fail from the moment the verifier takes ${next.presenterKeyId} until every presenter has restarted. ` +
                `Run it in a quiet window; prefer a backend with two slots where there is one.`,
        });
    }
    return out;
}

/** Property names whose string values are credentials (not their IDs, names or files). */
const SENSITIVE_NAME = /secret|password|passwd|token|private|api_?key|credential/i;
const SAFE_NAME = /(key_?ids?|key_?id_secondary|name|names|_at|arn|file|path|prefix|version|username|user)$/i;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/** Paths of string leaves that look like key material (by their name or their shape). */
export function keyMaterialPaths(value: unknown, path: string[] = []): string[] {
    if (typeof value === "string") {
        const name = path[path.length - 1] ?? "";
        const byName = SENSITIVE_NAME.test(name) && !SAFE_NAME.test(name) && value.length > 0;
        return byName || HEX_KEY.test(value) ? [path.join(".")] : [];
    }
    if (Array.isArray(value)) return value.flatMap((v, i) => keyMaterialPaths(v, [...path, String(i)]));
    if (value !== null && typeof value === "object") {
        return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => keyMaterialPaths(v, [...path, k]));
    }
    return [];
}

/**
 * Mandatory: stack outputs carry key IDs, generations, stages and times,
 * never key material (docs/DESIGN.md "Where secrets go"). The policy SDK hands
 * stack validations plain values with secretness removed, so any output that
 * looks like key material fails, secret or not. One exception, by design
 * (docs/DESIGN.md "Many clusters"): a key stack's `keyMaterial` output, the
 * channel its clusters read by StackReference, which the program makes a
 * Pulumi secret (test/e2e/fleet.e2e.test.ts proves it is encrypted in state).
 * A stack is a key stack when its `keyRing` output lists its clusters.
 */
export function outputFindings(resources: StackResource[]): Finding[] {
    const stack = resources.find((r) => r.type === STACK_TYPE);
    if (!stack) return [];
    const clusters = get(stack.props, "keyRing", "clusters");
    const keyStack = Array.isArray(clusters) && clusters.length > 0;
    return keyMaterialPaths(stack.props)
        .filter((p) => !(keyStack && p.startsWith("keyMaterial.")))
        .map((p) => ({
            urn: stack.urn,
            message: `the stack output ${p} looks like key material: stack outputs carry key IDs, generations, stages and times only, never a value (not even as a Pulumi secret)`,
        }));
}

/** Which of a Kubernetes Secret's data/stringData entries are not Pulumi secrets. */
export interface Secretness {
    /** Property paths (data.KEY, stringData.KEY) whose value is not a Pulumi secret. */
    plain: string[];
}

/** Entries of a Secret object that name a key rather than hold one (key IDs, user names, file names). */
const ID_ENTRY = /(key_?ids?(_secondary)?|username|user|_file)$/i;

export function secretObjectFindings(name: string, secretness: Secretness | undefined): Finding[] {
    // The probe (a remediation) must have run first in this analyzer; if it
    // did not (the engine changed its order, the pack runs without it), the
    // secretness of the data is unknown: fail closed.
    if (!secretness) {
        return [
            {
                message: `Kubernetes Secret ${name}: secretness-probe did not run before this validation, so whether its data is a Pulumi secret cannot be checked; run the whole pack (its remediations first)`,
            },
        ];
    }
    return secretness.plain
        .filter((p) => !ID_ENTRY.test(p))
        .map((p) => ({
            message: `Kubernetes Secret ${name}: ${p} is not a Pulumi secret, so its value would be stored in plain text in the state and shown in diffs; pass it as a pulumi.secret Output`,
        }));
}

/** Mandatory: key material in a ConfigMap, or a container env var with a plain value that looks like a credential. */
export function plainKeyMaterialFindings(type: string, name: string, props: Record<string, unknown>): Finding[] {
    if (type === CONFIG_MAP_TYPE) {
        const paths = [...keyMaterialPaths(get(props, "data"), ["data"]), ...keyMaterialPaths(get(props, "binaryData"), ["binaryData"])];
        return paths.map((p) => ({
            message: `ConfigMap ${name}: ${p} looks like key material; key material goes in a Secret object as a Pulumi secret`,
        }));
    }
    if (WORKLOAD_TYPES.includes(type)) {
        const kind = type.split(":").pop();
        const containers = (get(props, "spec", "template", "spec", "containers") as unknown[] | undefined) ?? [];
        const out: Finding[] = [];
        for (const c of containers) {
            for (const e of (get(c, "env") as unknown[] | undefined) ?? []) {
                const envName = get(e, "name");
                const value = get(e, "value");
                if (typeof envName === "string" && typeof value === "string" && keyMaterialPaths({ [envName]: value }).length > 0) {
                    out.push({
                        message: `${kind} ${name}: container env ${envName} has a plain value that looks like a credential; deliver it from a Secret object (valueFrom.secretKeyRef)`,
                    });
                }
            }
        }
        return out;
    }
    return [];
}
