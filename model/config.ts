// Stack config -> StackSpec. zod checks the shape (it reports every problem
// with its path, which we turn into our own sentences); the cross-references
// zod cannot see (unknown services, roles, generations) are checked below.

import { z } from "zod";
import { ConfigError, ConfigIssue, closest, configKey, configPath, show } from "./errors";
import { AwsSpec, BACKENDS, BackendSpec, BackendType, KINDS, KubernetesSpec, STAGES, SecretSpec, ServiceSpec, StackSpec, StoresSpec } from "./types";
import { deliveryFor } from "./delivery";

/** Defaults per kind (DESIGN.md, runbook "Frequency": HMAC 90 days, service credentials 180). */
export const KIND_DEFAULTS = {
    hmac: { maxAgeDays: 90, minOverlapHours: 24, envPrefix: "TITAN_HMAC", length: 64 },
    password: { maxAgeDays: 180, minOverlapHours: 24, envPrefix: "", length: 32 },
    apiKey: { maxAgeDays: 90, minOverlapHours: 24, envPrefix: "", length: 0 },
} as const;

/** Per backend: how many credentials it holds at once, and what it is called by default. */
export const BACKEND_DEFAULTS: Record<BackendType, Omit<BackendSpec, "type" | "identifier" | "instanceClass">> = {
    rds: { slots: 1, username: "titan", permissions: "", port: 5432, file: "db" },
    elasticache: { slots: 2, username: "default", permissions: "", port: 6379, file: "redis" },
    redis: { slots: 2, username: "titan", permissions: "~* &* +@all", port: 6379, file: "redis" },
    nats: { slots: 2, username: "titan", permissions: ">", port: 4222, file: "nats" },
};

/** Backends that are AWS resources (the program updates them); the others are cluster workloads. */
export function isExternal(b: BackendSpec): boolean {
    return b.type === "rds" || b.type === "elasticache";
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const serviceSchema = z.strictObject({
    image: z.string().min(1),
    replicas: z.number().int().min(0).max(1000).optional(),
    env: z.record(z.string().regex(ENV_NAME), z.string()).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    args: z.array(z.string()).optional(),
});

const FILE = /^[a-z][a-z0-9_]{0,30}$/;
const backendSchema = z.strictObject({
    type: z.enum(BACKENDS as [string, ...string[]]),
    identifier: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/).optional(),
    instanceClass: z.string().min(1).optional(),
    username: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_-]{0,62}$/).optional(),
    permissions: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    file: z.string().regex(FILE).optional(),
});

const secretSchema = z.strictObject({
    kind: z.enum(KINDS as [string, ...string[]]),
    generation: z.number().int().min(1),
    stage: z.enum(STAGES as [string, ...string[]]),
    keyId: z.string().regex(KEY_ID).optional(),
    previousKeyId: z.string().regex(KEY_ID).optional(),
    verifiers: z.array(z.string()),
    presenters: z.array(z.string()),
    maxAgeDays: z.number().int().min(1).optional(),
    minOverlapHours: z.number().int().min(0).optional(),
    force: z.boolean().optional(),
    incident: z.string().min(1).optional(),
    envPrefix: z.string().regex(ENV_NAME).optional(),
    backend: backendSchema.optional(),
    length: z.number().int().min(16).max(128).optional(),
    exchange: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/).optional(),
    verification: z
        .strictObject({
            image: z.string().min(1),
            command: z.array(z.string()).min(1),
            env: z.record(z.string().regex(ENV_NAME), z.string()).optional(),
            timeoutSeconds: z.number().int().min(10).max(3600).optional(),
        })
        .optional(),
    revoked: z.array(z.number().int().min(1)).optional(),
});

const storesSchema = z.strictObject({
    vault: z
        .strictObject({
            address: z.string().min(1).optional(),
            mount: z.string().regex(/^[a-zA-Z0-9_-]+$/).optional(),
            path: z.string().regex(/^[a-zA-Z0-9_\/-]+$/).optional(),
        })
        .optional(),
    secretsManager: z
        .strictObject({
            prefix: z.string().regex(/^[a-zA-Z0-9/_+=.@-]*$/).optional(),
            kmsKeyId: z.string().min(1).optional(),
        })
        .optional(),
});

const monitoringSchema = z.strictObject({
    prometheusRule: z.boolean().optional(),
    labels: z.record(z.string(), z.string()).optional(),
});

const awsSchema = z.strictObject({ region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional() });

const kubernetesSchema = z.strictObject({
    namespace: z.string().regex(NAME).optional(),
    renderDir: z.string().min(1).optional(),
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    rolloutTimeoutSeconds: z.number().int().min(10).max(86_400).optional(),
});

/** What a person can write, per zod issue, in words. */
function allowedFor(issue: z.core.$ZodIssue): string {
    switch (issue.code) {
        case "invalid_type":
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
            return `a number <= ${issue.maximum}`;
        case "invalid_format":
            return issue.format === "regex" ? `text matching ${(issue as { pattern?: string }).pattern ?? "the allowed pattern"}` : issue.format;
        case "invalid_key":
            return "environment variable names (letters, digits, _; not starting with a digit)";
        default:
            return issue.message;
    }
}

function zodIssues(root: string, error: z.ZodError, known: Record<string, readonly string[]>, prefix: string[] = []): ConfigIssue[] {
    return error.issues.map((issue) => {
        const path = [root, ...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
        if (issue.code === "unrecognized_keys") {
            const where = path[path.length - 1];
            const candidates = known[where === "backend" || where === "verification" ? where : root === "secrets" ? "secret" : root] ?? [];
            const hints = issue.keys.map((k) => {
                const near = closest(k, candidates);
                return near ? `${JSON.stringify(k)} (did you mean ${JSON.stringify(near)}?)` : JSON.stringify(k);
            });
            return {
                key: configKey(path),
                found: `unknown key${issue.keys.length > 1 ? "s" : ""} ${hints.join(", ")}`,
                allowed: candidates.join(", "),
            };
        }
        return { key: configKey(path), found: show(issue.input), allowed: allowedFor(issue) };
    });
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
    secret: Object.keys(secretSchema.shape),
    backend: Object.keys(backendSchema.shape),
    verification: ["image", "command", "env", "timeoutSeconds"],
    services: Object.keys(serviceSchema.shape),
    kubernetes: Object.keys(kubernetesSchema.shape),
    stores: Object.keys(storesSchema.shape),
    monitoring: Object.keys(monitoringSchema.shape),
    aws: Object.keys(awsSchema.shape),
};

/**
 * Parses a map entry by entry, so one bad entry does not hide the checks of
 * the others. Returns the entries that parsed.
 */
function parseEach<T>(root: string, raw: unknown, schema: z.ZodType<T>, issues: ConfigIssue[]): [string, T][] {
    const map = z.record(z.string(), z.unknown()).safeParse(raw ?? {}, { reportInput: true });
    if (!map.success) {
        issues.push(...zodIssues(root, map.error, KNOWN_KEYS));
        return [];
    }
    const parsed: [string, T][] = [];
    for (const [name, value] of Object.entries(map.data)) {
        const r = schema.safeParse(value, { reportInput: true });
        if (r.success) parsed.push([name, r.data]);
        else issues.push(...zodIssues(root, r.error, KNOWN_KEYS, [name]));
    }
    return parsed;
}

export interface RawConfig {
    kubernetes?: unknown;
    monitoring?: unknown;
    stores?: unknown;
    aws?: unknown;
    services?: unknown;
    secrets?: unknown;
}

/**
 * Parses and cross-checks the stack config. Throws ConfigError listing every
 * problem found; returns a spec with every default filled in. `stack` names
 * the default store paths.
 */
export function parseConfig(raw: RawConfig, stack = "dev"): StackSpec {
    const issues: ConfigIssue[] = [];

    const k8s = kubernetesSchema.safeParse(raw.kubernetes ?? {}, { reportInput: true });
    if (!k8s.success) issues.push(...zodIssues("kubernetes", k8s.error, KNOWN_KEYS));

    const storesRaw = storesSchema.safeParse(raw.stores ?? {}, { reportInput: true });
    if (!storesRaw.success) issues.push(...zodIssues("stores", storesRaw.error, KNOWN_KEYS));
    const monitoringRaw = monitoringSchema.safeParse(raw.monitoring ?? {}, { reportInput: true });
    if (!monitoringRaw.success) issues.push(...zodIssues("monitoring", monitoringRaw.error, KNOWN_KEYS));
    const awsRaw = awsSchema.safeParse(raw.aws ?? {}, { reportInput: true });
    if (!awsRaw.success) issues.push(...zodIssues("aws", awsRaw.error, KNOWN_KEYS));

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
        services.set(name, { name, image: s.image, replicas: s.replicas ?? 1, env: s.env ?? {}, port: s.port, args: s.args });
    }

    const secrets = new Map<string, SecretSpec>();
    for (const [name, s] of secretsRaw) {
        const defaults = KIND_DEFAULTS[s.kind as keyof typeof KIND_DEFAULTS];
        const spec: SecretSpec = {
            name,
            kind: s.kind as SecretSpec["kind"],
            generation: s.generation,
            stage: s.stage as SecretSpec["stage"],
            keyId: s.keyId ?? defaultKeyId(name, s.generation),
            previousKeyId: s.previousKeyId ?? defaultKeyId(name, s.generation - 1),
            verifiers: s.verifiers,
            presenters: s.presenters,
            maxAgeDays: s.maxAgeDays ?? defaults.maxAgeDays,
            minOverlapHours: s.minOverlapHours ?? defaults.minOverlapHours,
            force: s.force ?? false,
            incident: s.incident,
            envPrefix: s.envPrefix ?? defaults.envPrefix,
            backend: s.backend && { ...BACKEND_DEFAULTS[s.backend.type as BackendType], ...s.backend, type: s.backend.type as BackendType },
            length: s.length ?? defaults.length,
            exchange: s.exchange,
            verification: s.verification && { env: {}, timeoutSeconds: 600, ...s.verification },
            revoked: s.revoked ?? [],
        };
        issues.push(...checkSecret(spec, s.keyId !== undefined, s.previousKeyId !== undefined, services));
        secrets.set(name, spec);
    }
    if (issues.length === 0) issues.push(...checkDelivery(secrets, services));

    const stores: StoresSpec = {};
    if (storesRaw.data?.vault) stores.vault = { mount: "secret", path: `titan/${stack}`, ...storesRaw.data.vault };
    if (storesRaw.data?.secretsManager) stores.secretsManager = { prefix: `titan/${stack}/`, ...storesRaw.data.secretsManager };
    const aws: AwsSpec = awsRaw.data ?? {};
    const needsAws = stores.secretsManager !== undefined || [...secrets.values()].some((s) => s.backend && isExternal(s.backend));
    if (needsAws && !aws.region) {
        issues.push({
            key: configKey(["aws", "region"]),
            found: "nothing, while " + (stores.secretsManager ? "stores.secretsManager is on" : "a secret's backend is an AWS resource"),
            allowed: "the AWS region of those resources, e.g. eu-west-1",
            fix: `pulumi config set --path 'aws.region' eu-west-1`,
        });
    }

    if (issues.length > 0) throw new ConfigError(issues);
    return {
        kubernetes: { namespace: "titan", rolloutTimeoutSeconds: 600, ...(k8s.data ?? {}) } as KubernetesSpec,
        stores,
        monitoring: { prometheusRule: monitoringRaw.data?.prometheusRule ?? false, labels: monitoringRaw.data?.labels ?? {} },
        aws,
        services,
        secrets,
    };
}

export function defaultKeyId(secret: string, generation: number): string {
    return `${secret}-g${generation}`;
}

/** Whether the stage keeps generation N-1 live beside N. */
export function hasSecondary(stage: SecretSpec["stage"]): boolean {
    return stage === "overlap" || stage === "revert";
}

function checkSecret(s: SecretSpec, keyIdDeclared: boolean, previousDeclared: boolean, services: Map<string, ServiceSpec>): ConfigIssue[] {
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
    if (s.kind === "hmac" && s.verifiers.length === 0) {
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
            found: "nothing, with stage \"compromised\"",
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
    if (hasSecondary(s.stage) && s.keyId === s.previousKeyId) {
        issues.push({ key: at("keyId"), found: `${JSON.stringify(s.keyId)} for both generations`, allowed: "a key ID that differs from the previous generation's" });
    }
    return issues;
}

/** An exchange API key: the exchange verifies it; only API keys name one. */
function checkApiKey(s: SecretSpec): ConfigIssue[] {
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    if (s.kind !== "apiKey") {
        const stray = [s.exchange !== undefined && "exchange", s.verification !== undefined && "verification", s.revoked.length > 0 && "revoked"].filter((k): k is string => k !== false);
        return stray.map((k) => ({ key: at(k), found: `${k} on a ${s.kind} secret`, allowed: `${k} only on kind "apiKey"` }));
    }
    const issues: ConfigIssue[] = [];
    if (!s.exchange) {
        issues.push({ key: at("exchange"), found: "nothing", allowed: "the exchange the key belongs to, e.g. bybit or mexc", fix: `pulumi config set --path '${configPath(["secrets", s.name, "exchange"])}' bybit` });
    }
    if (s.verifiers.length > 0) {
        issues.push({ key: at("verifiers"), found: `${s.verifiers.map((v) => JSON.stringify(v)).join(", ")} for an API key`, allowed: `an empty list: the exchange (${s.exchange ?? "?"}) verifies the key` });
    }
    if (s.presenters.length === 0) {
        issues.push({ key: at("presenters"), found: "an empty list", allowed: "the services that trade with this key, e.g. titan-execution-rs and titan-ai-quant" });
    }
    for (const g of s.revoked) {
        const live = hasSecondary(s.stage) ? [s.generation, s.generation - 1] : [s.generation];
        if (live.includes(g)) {
            issues.push({
                key: at("revoked"),
                found: `generation ${g}, which is still live (${s.stage} at generation ${s.generation})`,
                allowed: "only generations that no presenter uses any more: revoke a key at the exchange after the stage that drops it is applied",
            });
        }
    }
    return issues;
}

/** The backend of a password: present, complete, and able to hold the stage. */
function checkBackend(s: SecretSpec): ConfigIssue[] {
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    const b = s.backend;
    if (s.kind !== "password") {
        return b ? [{ key: at("backend"), found: `a backend (${JSON.stringify(b.type)}) on an ${s.kind} secret`, allowed: "a backend only on kind \"password\"" }] : [];
    }
    if (!b) {
        return [{ key: at("backend"), found: "nothing", allowed: `a backend object whose type is one of ${BACKENDS.map((t) => JSON.stringify(t)).join(", ")}`, fix: `pulumi config set --path '${configPath(["secrets", s.name, "backend", "type"])}' redis` }];
    }
    const issues: ConfigIssue[] = [];
    if (isExternal(b)) {
        if (!b.identifier) {
            issues.push({
                key: at("backend", "identifier"),
                found: "nothing",
                allowed: b.type === "rds" ? "the RDS instance identifier whose master password this secret is" : "the ElastiCache replication group ID whose auth token this secret is",
                fix: `pulumi config set --path '${configPath(["secrets", s.name, "backend", "identifier"])}' <identifier>`,
            });
        }
        if (b.type === "rds" && !b.instanceClass) {
            issues.push({ key: at("backend", "instanceClass"), found: "nothing", allowed: "the instance's class, e.g. db.r6g.large (the AWS provider requires it; the program changes only the password)" });
        }
        if (s.verifiers.length > 0) {
            issues.push({ key: at("verifiers"), found: `${s.verifiers.map((v) => JSON.stringify(v)).join(", ")} for a ${b.type} backend`, allowed: `an empty list: the ${b.type} ${b.identifier ?? "resource"} itself verifies the password` });
        }
    } else if (s.verifiers.length === 0) {
        issues.push({ key: at("verifiers"), found: "an empty list", allowed: `the service(s) running the ${b.type} server that checks this password` });
    }
    if (b.slots === 1 && (s.stage === "overlap" || s.stage === "revert")) {
        issues.push({
            key: at("stage"),
            found: `${JSON.stringify(s.stage)} for a ${b.type} backend, which holds one password at a time`,
            allowed: `"stable" at the next generation (the password changes, then the presenters restart; logins fail in between) or "compromised"`,
            fix: `pulumi config set --path '${configPath(["secrets", s.name, "stage"])}' stable`,
        });
    }
    return issues;
}

/** Two secrets may not deliver the same variable or file to one service. */
function checkDelivery(secrets: Map<string, SecretSpec>, services: Map<string, ServiceSpec>): ConfigIssue[] {
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
                            allowed: `a ${s.backend?.type} server that verifies one password secret (its config file is rendered from that secret)`,
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
                            found: `${JSON.stringify(s.kind === "hmac" ? s.envPrefix : s.kind === "apiKey" ? s.exchange : s.backend?.file)}, so ${svc} would get ${v} from both ${JSON.stringify(other)} and ${JSON.stringify(s.name)}`,
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
                    if (services.get(svc)?.env[v] !== undefined) {
                        issues.push({
                            key: configKey(["services", svc, "env", v]),
                            found: `a plain value for ${v}, which secret ${JSON.stringify(s.name)} delivers`,
                            allowed: "environment names that no secret delivers to this service",
                        });
                    }
                }
            }
        }
    }
    return issues;
}
