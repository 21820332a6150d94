// Stack config -> StackSpec. The schemas (schema.ts) check the shape of each
// part and fill fixed defaults; zod reports every problem with its path,
// which we turn into our own sentences. The cross-references zod cannot see
// (unknown services, roles, generations, one owner per backend) are checked
// below; names across the whole config (key IDs, clusters, workloads,
// delivered variables, the objects built from them) in configNames.ts.

import { z } from "zod";
import { ConfigError, ConfigIssue, PROJECT, closest, configKey, configPath, show } from "./errors";
import { deliveryFor } from "./delivery";
import {
    CONFIG_KEYS,
    ConfigSection,
    NAME,
    apiKeySecretSchema,
    awsSchema,
    nameMap,
    consumersSchema,
    fleetSchema,
    hmacSecretSchema,
    kubernetesSchema,
    monitoringSchema,
    passwordSecretSchema,
    removeSecretsSchema,
    secretSchema,
    serviceSchema,
    storesSchema,
} from "./schema";
import { checkServerConfig } from "./serverConfig";
import { checkDeliveredEnv, checkFleetNames, checkKeyIds, checkMonitoringLabels, checkObjectNames, checkWorkloads } from "./configNames";
import { BackendSpec, BackendType, SecretKind, SecretSpec, ServiceSpec, StackSpec, StoresSpec } from "./types";

/** The fixed default of a schema field (`.default(x)`), read from the schema itself. */
function defaultOf(field: z.ZodType): number {
    return field.parse(undefined) as number;
}

/** Per kind, the defaults the policy pack and the tools also need (docs/runbook.md: how often). */
export const KIND_DEFAULTS: Record<SecretKind, { maxAgeDays: number; minOverlapHours: number }> = {
    hmac: { maxAgeDays: defaultOf(hmacSecretSchema.shape.maxAgeDays), minOverlapHours: defaultOf(hmacSecretSchema.shape.minOverlapHours) },
    password: {
        maxAgeDays: defaultOf(passwordSecretSchema.shape.maxAgeDays),
        minOverlapHours: defaultOf(passwordSecretSchema.shape.minOverlapHours),
    },
    apiKey: {
        maxAgeDays: defaultOf(apiKeySecretSchema.shape.maxAgeDays),
        minOverlapHours: defaultOf(apiKeySecretSchema.shape.minOverlapHours),
    },
};

/** Credentials a backend holds at once: an RDS master password is one; the others hold two. */
export function slotsOf(type: BackendType): 1 | 2 {
    return type === "rds" ? 1 : 2;
}

/** Credentials the verifiers of a secret hold at once: 1 for a single-slot backend (RDS), else 2. */
export function secretSlots(s: SecretSpec): 1 | 2 {
    return s.kind === "password" ? s.backend.slots : 2;
}

/** Backends that are AWS resources (the program updates them); the others are cluster workloads. */
export function isExternal(b: { type: BackendType }): b is Extract<BackendSpec, { type: "rds" | "elasticache" }> {
    return b.type === "rds" || b.type === "elasticache";
}

/** The raw config the parser reads: one value per key of the project's namespace. */
export type RawConfig = Partial<Record<ConfigSection, unknown>>;

/**
 * The raw config from a stack's config map (`titan-secrets:<key>` -> value,
 * as a stack file or `pulumi config --json` holds it). The one reader of it
 * for the tools, the tests and the bench (the program reads Pulumi's config).
 * A key of the project's namespace that the program does not know is refused.
 */
export function rawConfigFrom(entries: Record<string, unknown>): RawConfig {
    const issues = unknownConfigKeys(Object.keys(entries));
    if (issues.length > 0) throw new ConfigError(issues);
    return rawConfigOf((k) => entries[`${PROJECT}:${k}`]);
}

export function rawConfigOf(get: (key: ConfigSection) => unknown): RawConfig {
    const raw: RawConfig = {};
    for (const k of CONFIG_KEYS) {
        const v = get(k);
        if (v !== undefined) raw[k] = v;
    }
    return raw;
}

/**
 * Keys of the project's namespace that are not the program's: a typo
 * (`secret:` for `secrets:`) would otherwise drop that part of the config
 * and the next up would delete what it declared.
 */
export function unknownConfigKeys(keys: Iterable<string>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const full of keys) {
        if (!full.startsWith(`${PROJECT}:`)) {
            // A namespace one typo from the project's (titan-secret:, Titan-Secrets:) hides the key from the program as surely.
            const colon = full.indexOf(":");
            const namespace = full.slice(0, colon);
            if (colon > 0 && closest(namespace, [PROJECT]) !== undefined)
                issues.push({
                    key: full,
                    found: `a key of the namespace ${JSON.stringify(namespace)}, which the program does not read (did you mean "${PROJECT}"?)`,
                    allowed: `the program's keys in the namespace ${PROJECT} (other namespaces are providers', e.g. kubernetes:)`,
                    fix: `rename it to ${PROJECT}:${full.slice(colon + 1)}`,
                });
            continue;
        }
        const key = full.slice(PROJECT.length + 1);
        if ((CONFIG_KEYS as string[]).includes(key)) continue;
        const near = closest(key, CONFIG_KEYS);
        issues.push({
            key: full,
            found: `an unknown key${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
            allowed: `the keys of ${PROJECT}: ${CONFIG_KEYS.join(", ")}`,
            fix: near ? `rename it to ${PROJECT}:${near}` : `remove it (pulumi config rm ${key})`,
        });
    }
    return issues;
}

/** What a person can write, per zod issue, in words; `describe` is the field's own documentation. */
function allowedFor(issue: z.core.$ZodIssue, describe: string | undefined): string {
    switch (issue.code) {
        case "invalid_type":
            if (issue.input === undefined && describe) return lowerFirst(describe);
            if (issue.expected === "int") return "a whole number";
            if (issue.expected === "record" || issue.expected === "object") return "a map of keys to values";
            if (issue.expected === "array") return "a list";
            return `a ${issue.expected}`;
        case "invalid_value":
            return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        case "too_small":
            if (issue.origin === "array") return `a list of at least ${issue.minimum} item(s)`;
            if (issue.origin === "string") return "a non-empty string";
            return `a number >= ${issue.minimum}`;
        case "too_big":
            if (issue.origin === "string") return `at most ${issue.maximum} characters`;
            if (issue.origin === "array") return `a list of at most ${issue.maximum} item(s)`;
            return `a number <= ${issue.maximum}`;
        case "invalid_format":
            // A pattern given its rule in words (`.regex(re, rule)`) says the rule; zod's own message names the pattern.
            if (issue.format === "regex" && !issue.message.startsWith("Invalid string")) return issue.message;
            return issue.format === "regex"
                ? `text matching ${(issue as { pattern?: string }).pattern ?? "the allowed pattern"}`
                : issue.format;
        case "invalid_key":
            // The key's own rule (an environment variable name, a label key, text).
            return issue.issues.length > 0 ? `keys that are ${allowedFor(issue.issues[0] as z.core.$ZodIssue, undefined)}` : issue.message;
        default:
            return issue.message;
    }
}

function lowerFirst(text: string): string {
    const t = text.replace(/\.$/, "");
    return /^[A-Z][a-z]/.test(t) ? t[0].toLowerCase() + t.slice(1) : t;
}

/**
 * The schema at `path` (walking objects, records and unions by the input's
 * own discriminators). With `resolveLast` false, a union at the end of the
 * path is returned as the union (its options are what is allowed).
 */
function schemaAt(schema: z.ZodType, path: PropertyKey[], input: unknown, resolveLast = true): z.ZodType | undefined {
    let cur: z.ZodType | undefined = schema;
    let value: unknown = input;
    for (let i = 0; ; i++) {
        cur = unwrap(cur);
        if (cur instanceof z.ZodDiscriminatedUnion && (resolveLast || i < path.length)) {
            const disc = cur._zod.def.discriminator as string;
            const tag = value && typeof value === "object" ? (value as Record<string, unknown>)[disc] : undefined;
            cur = (cur.options as z.ZodObject[]).find((o) => (o.shape[disc] as z.ZodLiteral)._zod.def.values.includes(tag as never));
            if (cur === undefined) return undefined;
        }
        if (i === path.length) return cur;
        const seg = path[i];
        value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
        if (cur instanceof z.ZodObject) cur = cur.shape[String(seg)] as z.ZodType | undefined;
        else if (cur instanceof z.ZodRecord) cur = cur._zod.def.valueType as z.ZodType;
        else if (cur instanceof z.ZodArray) cur = cur._zod.def.element as z.ZodType;
        else return undefined;
        if (cur === undefined) return undefined;
    }
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
    let cur = s;
    for (;;) {
        if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) cur = cur._zod.def.innerType as z.ZodType;
        else if (isNameMap(cur)) cur = cur._zod.def.out as z.ZodType;
        else return cur;
    }
}

/** A schema.ts nameMap: a check of the input's own keys piped into the record. */
function isNameMap(s: z.ZodType | undefined): s is z.ZodPipe {
    return s instanceof z.ZodPipe && s._zod.def.in instanceof z.ZodTransform;
}

/** A field's documentation, from whichever layer (optional, default, the type) carries it. */
export function descriptionOf(s: z.ZodType | undefined): string | undefined {
    let cur = s;
    while (cur) {
        if (cur.description) return cur.description;
        cur =
            cur instanceof z.ZodOptional || cur instanceof z.ZodDefault
                ? (cur._zod.def.innerType as z.ZodType)
                : isNameMap(cur)
                  ? (cur._zod.def.out as z.ZodType)
                  : undefined;
    }
    return undefined;
}

/** zod's issues for one part of the config, as sentences keyed by config path. */
function zodIssues(root: ConfigSection, schema: z.ZodType, input: unknown, error: z.ZodError, prefix: string[] = []): ConfigIssue[] {
    return error.issues.map((issue) => {
        const rel = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
        const path = [root, ...prefix, ...rel];
        if (issue.code === "unrecognized_keys") {
            const holder = schemaAt(schema, rel, input);
            const candidates = holder instanceof z.ZodObject ? Object.keys(holder.shape) : [];
            const elsewhere = (k: string) => {
                if (root !== "secrets" || rel.length > 0) return undefined;
                const kinds = [hmacSecretSchema, passwordSecretSchema, apiKeySecretSchema]
                    .filter((o) => k in o.shape)
                    .map((o) => JSON.stringify((o.shape.kind as z.ZodLiteral).value));
                return kinds.length > 0 ? `, a key of kind ${kinds.join(" and ")}` : undefined;
            };
            const hints = issue.keys.map((k) => {
                const near = closest(k, candidates);
                return `${JSON.stringify(k)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : (elsewhere(k) ?? "")}`;
            });
            return {
                key: configKey(path),
                found: `unknown key${issue.keys.length > 1 ? "s" : ""} ${hints.join(", ")}`,
                allowed: candidates.join(", "),
            };
        }
        if (issue.code === "invalid_union" && (issue as { note?: string }).note === "No matching discriminator") {
            const u = issue as unknown as { discriminator: string; options: unknown[] };
            const holder =
                issue.input && typeof issue.input === "object" ? (issue.input as Record<string, unknown>)[u.discriminator] : undefined;
            return { key: configKey(path), found: show(holder), allowed: `one of ${u.options.map((o) => JSON.stringify(o)).join(", ")}` };
        }
        const field = schemaAt(schema, rel, input, false);
        const inner = unwrap(field);
        if (issue.input === undefined && inner instanceof z.ZodDiscriminatedUnion) {
            const disc = inner._zod.def.discriminator as string;
            const options = (inner.options as z.ZodObject[]).map((o) => JSON.stringify((o.shape[disc] as z.ZodLiteral).value));
            return {
                key: configKey(path),
                found: "nothing",
                allowed: `an object whose ${disc} is one of ${options.join(", ")}: ${lowerFirst(descriptionOf(field) ?? "")}`.replace(
                    /: $/,
                    "",
                ),
            };
        }
        // A check of schema.ts may say what it found in words (`params.found`): a reserved name, not a value.
        const found = issue.code === "custom" && typeof issue.params?.found === "string" ? issue.params.found : show(issue.input);
        return { key: configKey(path), found, allowed: allowedFor(issue, descriptionOf(field)) };
    });
}

function parseOne<T extends z.ZodType>(
    root: ConfigSection,
    schema: T,
    input: unknown,
    issues: ConfigIssue[],
    prefix: string[] = [],
): z.output<T> | undefined {
    const r = schema.safeParse(input, { reportInput: true });
    if (r.success) return r.data;
    issues.push(...zodIssues(root, schema, input, r.error, prefix));
    return undefined;
}

/**
 * Parses a map entry by entry, so one bad entry does not hide the checks of
 * the others. Returns the entries that parsed. The names JavaScript reserves
 * (`__proto__`, `constructor`, `prototype`) are refused (nameMap).
 */
function parseEach<T extends z.ZodType>(root: ConfigSection, raw: unknown, schema: T, issues: ConfigIssue[]): [string, z.output<T>][] {
    const map = parseOne(root, nameMap(z.string(), z.unknown()), raw ?? {}, issues);
    if (map === undefined) return [];
    const parsed: [string, z.output<T>][] = [];
    for (const [name, value] of Object.entries(map)) {
        const v = parseOne(root, schema, value, issues, [name]);
        if (v !== undefined) parsed.push([name, v]);
    }
    return parsed;
}

/**
 * Parses and cross-checks the stack config. Throws ConfigError listing every
 * problem found; returns a spec with every default filled in. `stack` names
 * the default store paths.
 */
export function parseConfig(raw: RawConfig, stack = "dev", keyRing?: KeyRingSecrets): StackSpec {
    const issues: ConfigIssue[] = [];
    const fleet = parseOne("fleet", fleetSchema, raw.fleet ?? { role: "all" }, issues) ?? { role: "all" as const };
    const consumers = parseOne("consumers", consumersSchema, raw.consumers ?? {}, issues) ?? {};
    const roleIssues = checkRole(raw, fleet.role);
    if (fleet.role === "keys") raw = keyRingSecretsRaw(raw);
    if (fleet.role === "workloads") raw = { ...raw, secrets: followedSecretsRaw(consumers, keyRing, issues) };
    const kubernetes = parseOne("kubernetes", kubernetesSchema, raw.kubernetes ?? {}, issues);
    const storesRaw = parseOne("stores", storesSchema, raw.stores ?? {}, issues);
    const monitoring = parseOne("monitoring", monitoringSchema, raw.monitoring ?? {}, issues);
    const aws = parseOne("aws", awsSchema, raw.aws ?? {}, issues);
    const removed = parseOne("removeSecrets", removeSecretsSchema, raw.removeSecrets ?? [], issues) ?? [];
    const servicesRaw = parseEach("services", raw.services, serviceSchema, issues);
    const secretsRaw = parseEach("secrets", raw.secrets, secretSchema, issues);

    const services = new Map<string, ServiceSpec>();
    for (const [name, s] of servicesRaw) {
        if (!NAME.test(name) || name.length > 63) {
            issues.push({
                key: configKey(["services", name]),
                found: `the service name ${JSON.stringify(name)}`,
                allowed: "a Kubernetes name: lower-case letters, digits and '-', at most 63 characters",
            });
        }
        const declared = (raw.services as Record<string, Record<string, unknown> | undefined>)[name];
        if (s.ownedElsewhere) {
            for (const key of ["image", "workload", "replicas", "env", "port", "args"]) {
                if (declared && Object.hasOwn(declared, key)) {
                    issues.push({
                        key: configKey(["services", name, key]),
                        found: `${show(declared[key])} on a service whose workload is owned elsewhere (${s.ownedElsewhere.kind} ${s.ownedElsewhere.name})`,
                        allowed: `no ${key}: the workload's owner declares it; the program writes only the rotation's fields`,
                    });
                }
            }
        } else if (s.image === undefined) {
            issues.push({
                key: configKey(["services", name, "image"]),
                found: "nothing",
                allowed:
                    "the container image of the workload the program declares, or ownedElsewhere: { kind, name } for a workload another tool owns",
            });
        }
        if (s.workload === "DaemonSet" && declared && Object.hasOwn(declared, "replicas")) {
            issues.push({
                key: configKey(["services", name, "replicas"]),
                found: `${show(declared.replicas)} on a DaemonSet`,
                allowed: "no replicas: a DaemonSet runs one pod per node; remove the key, or use workload Deployment or StatefulSet",
            });
        }
        services.set(name, { name, ...s });
    }

    const secrets = new Map<string, SecretSpec>();
    for (const [name, s] of secretsRaw) {
        const common = {
            name,
            keyId: s.keyId ?? defaultKeyId(name, s.generation),
            previousKeyId: s.previousKeyId ?? defaultKeyId(name, s.generation - 1),
        };
        const spec: SecretSpec =
            s.kind === "password" ? { ...s, ...common, backend: { ...s.backend, slots: slotsOf(s.backend.type) } } : { ...s, ...common };
        issues.push(...checkSecret(spec, s.keyId !== undefined, s.previousKeyId !== undefined, services, fleet.role));
        secrets.set(name, spec);
    }
    issues.push(...checkRemovals(removed, secrets));
    issues.push(...checkBackendOwners(secrets));
    issues.push(...checkKeyIds(secrets), ...checkObjectNames(secrets), ...checkWorkloads(services), ...checkFleetNames(fleet, stack));
    issues.push(...checkDeliveredEnv(secrets, services));
    if (monitoring) issues.push(...checkMonitoringLabels(monitoring));
    if (issues.length === 0) issues.push(...checkDelivery(secrets));

    const stores: StoresSpec = {};
    if (storesRaw?.vault) stores.vault = { ...storesRaw.vault, path: storesRaw.vault.path ?? `titan/${stack}` };
    if (storesRaw?.secretsManager)
        stores.secretsManager = { ...storesRaw.secretsManager, prefix: storesRaw.secretsManager.prefix ?? `titan/${stack}/` };
    const needsAws =
        stores.secretsManager !== undefined || [...secrets.values()].some((s) => s.kind === "password" && isExternal(s.backend));
    if (needsAws && aws && !aws.region) {
        issues.push({
            key: configKey(["aws", "region"]),
            found: "nothing, while " + (stores.secretsManager ? "stores.secretsManager is on" : "a secret's backend is an AWS resource"),
            allowed: "the AWS region of those resources, e.g. eu-west-1",
            fix: `pulumi config set --path 'aws.region' eu-west-1`,
        });
    }

    if (roleIssues.length > 0 || issues.length > 0 || !kubernetes || !monitoring || !aws)
        throw new ConfigError([...roleIssues, ...(fleet.role === "workloads" ? asConsumerIssues(issues) : issues)]);
    return { kubernetes, stores, monitoring, aws, services, secrets, removed: new Set(removed), fleet, consumers };
}

/** The key ring's secrets as a workload stack reads them: each one's config as the key stack declared it, without consumers. */
export type KeyRingSecrets = Record<string, Record<string, unknown>>;

/** What each role may declare: the key ring has no workloads, a cluster has no keys of its own. */
const ROLE_SECTIONS: Record<"all" | "keys" | "workloads", readonly ConfigSection[]> = {
    all: ["kubernetes", "services", "secrets", "removeSecrets", "exchangeKeys", "stores", "monitoring", "aws", "fleet"],
    keys: ["secrets", "removeSecrets", "stores", "aws", "fleet"],
    workloads: ["kubernetes", "services", "consumers", "removeSecrets", "monitoring", "fleet"],
};

function checkRole(raw: RawConfig, role: keyof typeof ROLE_SECTIONS): ConfigIssue[] {
    const allowed = ROLE_SECTIONS[role];
    const why: Record<typeof role, string> = {
        all: "consumers belong to a workload stack (fleet.role workloads); here each secret lists its verifiers and presenters",
        keys: "the key ring declares keys and stores only; services, Kubernetes and consumers belong to each cluster's workload stack",
        workloads:
            "a cluster's stack follows its key ring: secrets, stages, stores and removals are declared in the key stack (fleet.keyRing), consumers here",
    };
    return CONFIG_KEYS.filter((k) => raw[k] !== undefined && !allowed.includes(k)).map((k) => ({
        key: configKey([k]),
        found: `a value in a stack whose fleet.role is ${JSON.stringify(role)}`,
        allowed: `no ${k} here (${why[role]}); this role declares: ${allowed.join(", ")}`,
    }));
}

/** The key ring's secrets: HMAC keys only, with no consumers of their own (each cluster names them under `consumers`). */
function keyRingSecretsRaw(raw: RawConfig): RawConfig {
    if (raw.secrets === null || typeof raw.secrets !== "object" || Array.isArray(raw.secrets)) return raw;
    // fromEntries defines each name as an own property: an assignment would turn `__proto__` into the prototype (gone before any check).
    const secrets = Object.fromEntries(
        Object.entries(raw.secrets as Record<string, unknown>).map(([name, v]) => [
            name,
            v !== null && typeof v === "object" && !Array.isArray(v) ? { verifiers: [], presenters: [], ...v } : v,
        ]),
    );
    return { ...raw, secrets };
}

/** The config of the secrets a workload stack follows: the key ring's declaration plus this cluster's consumers. */
function followedSecretsRaw(
    consumers: Record<string, { verifiers: string[]; presenters: string[] }>,
    keyRing: KeyRingSecrets | undefined,
    issues: ConfigIssue[],
) {
    const secrets: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [name, c] of Object.entries(consumers)) {
        if (keyRing === undefined) continue;
        if (!Object.hasOwn(keyRing, name)) {
            const near = closest(name, Object.keys(keyRing));
            issues.push({
                key: configKey(["consumers", name]),
                found: `consumers of ${JSON.stringify(name)}, which is not a secret of the key ring${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
                allowed: `a secret the key stack declares: ${Object.keys(keyRing).join(", ") || "(none)"}`,
            });
            continue;
        }
        secrets[name] = { ...keyRing[name], verifiers: c.verifiers, presenters: c.presenters };
    }
    return secrets;
}

/** In a workload stack, a secret's consumers are written under `consumers`: name that key, not the merged `secrets`. */
function asConsumerIssues(issues: ConfigIssue[]): ConfigIssue[] {
    const secretsKey = configKey(["secrets"]);
    return issues.map((i) => {
        if (!i.key.startsWith(secretsKey)) return i;
        const rest = i.key.slice(secretsKey.length);
        // The secret itself (a removal) and its consumers are this stack's; its other fields are the key ring's.
        const own = /^(\.[A-Za-z0-9_-]+|\["([^"\\]|\\.)*"\])(\.(verifiers|presenters)|$)/.test(rest);
        return own ? { ...i, key: configKey(["consumers"]) + rest } : { ...i, key: `${i.key} (as the key ring declares it)` };
    });
}

/** removeSecrets names secrets that have left `secrets`, each once. */
function checkRemovals(removed: string[], secrets: Map<string, SecretSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    removed.forEach((name, i) => {
        if (secrets.has(name)) {
            issues.push({
                key: configKey(["removeSecrets", i]),
                found: `${JSON.stringify(name)}, which is still declared under ${configKey(["secrets"])}`,
                allowed: "secrets that have been deleted from secrets (removing one takes both edits, reviewed together)",
                fix: `pulumi config rm --path 'secrets.${name}'`,
            });
        }
        if (removed.indexOf(name) !== i)
            issues.push({
                key: configKey(["removeSecrets", i]),
                found: `${JSON.stringify(name)} twice`,
                allowed: "each secret at most once",
            });
    });
    return issues;
}

/** One backend, one owner: two secrets on one RDS instance would set its master password twice per up. */
function checkBackendOwners(secrets: Map<string, SecretSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const owner = new Map<string, string>();
    for (const s of secrets.values()) {
        if (s.kind !== "password" || !isExternal(s.backend)) continue;
        const id = `${s.backend.type}:${s.backend.identifier}`;
        const other = owner.get(id);
        if (other !== undefined) {
            issues.push({
                key: configKey(["secrets", s.name, "backend", "identifier"]),
                found: `${JSON.stringify(s.backend.identifier)}, the ${s.backend.type} that secret ${JSON.stringify(other)} already owns`,
                allowed: "a backend that no other secret sets the password of (one backend, one owner)",
            });
        } else owner.set(id, s.name);
    }
    return issues;
}

export function defaultKeyId(secret: string, generation: number): string {
    return `${secret}-g${generation}`;
}

/** Whether the stage keeps generation N-1 live beside N. */
export function hasSecondary(stage: SecretSpec["stage"]): boolean {
    return stage === "overlap" || stage === "revert";
}

function checkSecret(
    s: SecretSpec,
    keyIdDeclared: boolean,
    previousDeclared: boolean,
    services: Map<string, ServiceSpec>,
    role: "all" | "keys" | "workloads" = "all",
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    // Kubernetes object names are `<secret>-verifiers-g<N>-g<M>`: keep room.
    if (!NAME.test(s.name) || s.name.length > 40) {
        issues.push({
            key: configKey(["secrets", s.name]),
            found: `the secret name ${JSON.stringify(s.name)}`,
            allowed: "lower-case letters, digits and '-', at most 40 characters (it names Kubernetes objects)",
        });
    }
    for (const role of ["verifiers", "presenters"] as const) {
        const seen = new Set<string>();
        s[role].forEach((svc, i) => {
            if (!services.has(svc)) {
                const near = closest(svc, services.keys());
                issues.push({
                    key: configKey(["secrets", s.name, role, i]),
                    found: `${JSON.stringify(svc)}, which is not a declared service${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
                    allowed: `a service declared under ${configKey(["services"])}: ${[...services.keys()].join(", ") || "(none declared)"}`,
                });
            }
            if (seen.has(svc)) {
                issues.push({ key: at(role), found: `${JSON.stringify(svc)} twice`, allowed: "each service at most once" });
            }
            seen.add(svc);
        });
    }
    for (const svc of s.verifiers) {
        if (s.presenters.includes(svc)) {
            issues.push({
                key: at("presenters"),
                found: `${JSON.stringify(svc)}, which is also listed under verifiers`,
                allowed: "a service is either a verifier or a presenter of one secret, never both (split it, or use two secrets)",
            });
        }
    }
    if (role === "keys" && (s.verifiers.length > 0 || s.presenters.length > 0)) {
        issues.push({
            key: at(s.verifiers.length > 0 ? "verifiers" : "presenters"),
            found: `consumers in the key ring (${[...s.verifiers, ...s.presenters].join(", ")})`,
            allowed: "none here: each cluster's workload stack names its own under consumers." + s.name,
        });
    }
    if (role !== "all" && s.kind !== "hmac") {
        issues.push({
            key: at("kind"),
            found: `${JSON.stringify(s.kind)} in a stack whose fleet.role is ${JSON.stringify(role)}`,
            allowed: `"hmac": across clusters the key ring holds HMAC keys; keep passwords and API keys in a stack with fleet.role "all" (one per cluster)`,
        });
    }
    // Across clusters, one cluster may hold only the signers: the key ring checks the fleet.
    if (role === "all" && s.kind === "hmac" && s.verifiers.length === 0) {
        issues.push({ key: at("verifiers"), found: "an empty list", allowed: "at least one service that verifies the HMAC signatures" });
    }
    issues.push(...checkBackend(s));
    issues.push(...checkApiKey(s));
    if (hasSecondary(s.stage) && s.generation < 2) {
        issues.push({
            key: at("generation"),
            found: `${s.generation} with stage ${JSON.stringify(s.stage)}`,
            allowed: `a generation >= 2 in ${s.stage}, which keeps the previous generation live beside it`,
            fix: `pulumi config set --path '${configPath(["secrets", s.name, "generation"])}' ${s.generation + 1}`,
        });
    }
    if (s.stage === "compromised" && !s.incident) {
        issues.push({
            key: at("incident"),
            found: 'nothing, with stage "compromised"',
            allowed: "an incident ID (any non-empty text) that explains the emergency rotation",
            fix: `pulumi config set --path '${configPath(["secrets", s.name, "incident"])}' INC-1234`,
        });
    }
    if (hasSecondary(s.stage) && keyIdDeclared && !previousDeclared) {
        issues.push({
            key: at("previousKeyId"),
            found: `nothing, while keyId is declared (${JSON.stringify(s.keyId)}) and generation ${s.generation - 1} is still live`,
            allowed: `the key ID of generation ${s.generation - 1}, so that verifiers keep accepting it`,
            fix: `pulumi config set --path '${configPath(["secrets", s.name, "previousKeyId"])}' <key ID of generation ${s.generation - 1}>`,
        });
    }
    if (hasSecondary(s.stage) && s.keyId.toLowerCase() === s.previousKeyId.toLowerCase()) {
        issues.push({
            key: at("keyId"),
            found: `${JSON.stringify(s.keyId)} for both generations${s.keyId === s.previousKeyId ? "" : ` (previousKeyId ${JSON.stringify(s.previousKeyId)}, compared ignoring case)`}`,
            allowed: "a key ID that differs from the previous generation's",
        });
    }
    return issues;
}

/** An exchange API key: the exchange verifies it. */
function checkApiKey(s: SecretSpec): ConfigIssue[] {
    if (s.kind !== "apiKey") return [];
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    const issues: ConfigIssue[] = [];
    if (s.verifiers.length > 0) {
        issues.push({
            key: at("verifiers"),
            found: `${s.verifiers.map((v) => JSON.stringify(v)).join(", ")} for an API key`,
            allowed: `an empty list: the exchange (${s.exchange}) verifies the key`,
        });
    }
    if (s.presenters.length === 0) {
        issues.push({
            key: at("presenters"),
            found: "an empty list",
            allowed: "the services that trade with this key, e.g. titan-execution-rs and titan-ai-quant",
        });
    }
    s.revoked.forEach((g, i) => {
        // Past generation + 1 (the one a revert drops), never made yet: when it is, its revocation reminder would never show.
        if (g > s.generation + 1) {
            issues.push({
                key: configKey(["secrets", s.name, "revoked", i]),
                found: `generation ${g}, which does not exist yet (generation is ${s.generation})`,
                allowed: `generations that were made and dropped: at most ${s.generation + 1} (the one a revert drops), each revoked at the exchange after the stage that drops it was applied`,
            });
        } else if (s.revoked.indexOf(g) !== i) {
            issues.push({
                key: configKey(["secrets", s.name, "revoked", i]),
                found: `generation ${g} twice`,
                allowed: "each generation at most once",
            });
        }
    });
    for (const g of s.revoked) {
        const live = hasSecondary(s.stage) ? [s.generation, s.generation - 1] : [s.generation];
        if (live.includes(g)) {
            issues.push({
                key: at("revoked"),
                found: `generation ${g}, which is still live (${s.stage} at generation ${s.generation})`,
                allowed:
                    "only generations that no presenter uses any more: revoke a key at the exchange after the stage that drops it is applied",
            });
        }
    }
    return issues;
}

/** The backend of a password: verified by the right side, able to hold the stage, and its config text in its server's grammar. */
function checkBackend(s: SecretSpec): ConfigIssue[] {
    if (s.kind !== "password") return [];
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    const b = s.backend;
    const issues: ConfigIssue[] = [];
    if (isExternal(b)) {
        if (s.verifiers.length > 0) {
            issues.push({
                key: at("verifiers"),
                found: `${s.verifiers.map((v) => JSON.stringify(v)).join(", ")} for a ${b.type} backend`,
                allowed: `an empty list: the ${b.type} ${b.identifier} itself verifies the password`,
            });
        }
    } else {
        if (s.verifiers.length === 0)
            issues.push({
                key: at("verifiers"),
                found: "an empty list",
                allowed: `the service(s) running the ${b.type} server that checks this password`,
            });
        issues.push(...checkServerConfig(b, (...p) => at("backend", ...p)));
    }
    if (b.slots === 1 && hasSecondary(s.stage)) {
        issues.push({
            key: at("stage"),
            found: `${JSON.stringify(s.stage)} for a ${b.type} backend, which holds one password at a time`,
            allowed: `"stable" at the next generation (the password changes, then the presenters restart; logins fail in between) or "compromised"`,
            fix: `pulumi config set --path '${configPath(["secrets", s.name, "stage"])}' stable`,
        });
    }
    return issues;
}

/** Two secrets may not deliver the same variable or file to one service (a user's variable: checkDeliveredEnv). */
function checkDelivery(secrets: Map<string, SecretSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const owner = new Map<string, string>(); // "<service>/<VAR or path>" -> secret
    for (const s of secrets.values()) {
        for (const role of ["verifier", "presenter"] as const) {
            for (const svc of role === "verifier" ? s.verifiers : s.presenters) {
                const d = deliveryFor(s, role);
                if (s.kind === "password" && role === "verifier") {
                    // A server reads one rendered config: one password secret per server.
                    const k = `${svc}/server-config`;
                    const other = owner.get(k);
                    if (other !== undefined) {
                        issues.push({
                            key: configKey(["secrets", s.name, "verifiers"]),
                            found: `${JSON.stringify(svc)}, which already verifies ${JSON.stringify(other)}`,
                            allowed: `a ${s.backend.type} server that verifies one password secret (its config file is rendered from that secret)`,
                        });
                    }
                    owner.set(k, s.name);
                    continue;
                }
                const names = [...d.secretEnv, ...Object.keys(d.plainEnv), ...d.files.map((f) => f.path)];
                for (const v of names) {
                    const k = `${svc}/${v}`;
                    const other = owner.get(k);
                    if (other !== undefined && other !== s.name) {
                        const field = s.kind === "hmac" ? "envPrefix" : s.kind === "apiKey" ? "exchange" : "backend.file";
                        issues.push({
                            key: configKey(["secrets", s.name, ...field.split(".")]),
                            found: `${JSON.stringify(s.kind === "hmac" ? s.envPrefix : s.kind === "apiKey" ? s.exchange : s.backend.file)}, so ${svc} would get ${v} from both ${JSON.stringify(other)} and ${JSON.stringify(s.name)}`,
                            allowed: `a ${s.kind === "hmac" ? "prefix" : "file name"} that no other secret delivered to the same service uses`,
                            fix:
                                s.kind === "hmac"
                                    ? `pulumi config set --path '${configPath(["secrets", s.name, "envPrefix"])}' TITAN_HMAC_${s.name.toUpperCase().replace(/-/g, "_")}`
                                    : s.kind === "password"
                                      ? `pulumi config set --path '${configPath(["secrets", s.name, "backend", "file"])}' ${s.name.replace(/-/g, "_")}`
                                      : `give ${svc} one API key per exchange`,
                        });
                        break;
                    }
                    owner.set(k, s.name);
                }
            }
        }
    }
    return issues;
}
