// The config contract: one zod schema per part of the stack config, one per
// kind of secret (a discriminated union on `kind`) and per kind of backend
// (on `type`), every object strict. The TypeScript types of the parsed config
// are derived from these schemas, every field carries its documentation
// (what it does, its unit, its default), and docs/config-reference.md and
// schema/stack.schema.json are generated from them (npm run generate).
//
// Defaults that are fixed live here (`.default`); defaults computed from
// other fields (a key ID from the name and generation) are filled in by
// parseConfig and documented here with `computedDefault`.

import { z } from "zod";
import { KEY_ID, KEY_ID_RULE } from "./keyId";
import { DATA_KEY_MAX, DNS_LABEL_MAX, LABEL_KEY_RULE, LABEL_VALUE_RULE, isLabelKey, isLabelValue } from "./kubernetesNames";

export const STAGES = ["stable", "overlap", "revert", "compromised"] as const;
export const KINDS = ["hmac", "password", "apiKey"] as const;
export const BACKENDS = ["rds", "elasticache", "redis", "nats"] as const;

/** A Kubernetes-style name: lower-case letters, digits and '-'. */
export const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE = /^[a-z][a-z0-9_]{0,30}$/;
const USERNAME = /^[a-zA-Z_][a-zA-Z0-9_-]{0,62}$/;
const AWS_ID = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;

/**
 * Names JavaScript gives a meaning of their own: as a map key, `__proto__`
 * vanishes (zod and every object spread drop it, or it replaces the map's
 * prototype) and the others shadow built-ins. Refused wherever config names
 * something: every map of the schema is a `nameMap`, every listed name a `name`.
 */
export const RESERVED_NAMES: readonly string[] = ["__proto__", "constructor", "prototype"];
const RESERVED_RULE = `any name but ${RESERVED_NAMES.join(", ")} (JavaScript reserves them: the entry would vanish or shadow a built-in)`;

/**
 * A map of config (name -> value). zod skips an own `__proto__` key of its
 * input before any key check, so the reserved names are looked for on the
 * input itself, before the record parses it.
 */
export function nameMap<K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V) {
    return z.preprocess(refuseReservedKeys, z.record(key, value));
}

/** A nameMap that is empty when absent (the default sits inside the pipe: outside it, the JSON Schema loses it). */
export function nameMapOrEmpty<K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V) {
    return z.preprocess(refuseReservedKeys, z.record(key, value).default({} as never));
}

function refuseReservedKeys(input: unknown, ctx: z.core.$RefinementCtx): unknown {
    if (input !== null && typeof input === "object" && !Array.isArray(input)) {
        for (const k of Object.keys(input)) {
            if (RESERVED_NAMES.includes(k)) {
                ctx.addIssue({
                    code: "custom",
                    message: RESERVED_RULE,
                    path: [k],
                    input: k,
                    params: { found: `the name ${JSON.stringify(k)}` },
                });
            }
        }
    }
    return input;
}

/**
 * Free text a person writes (an image, an incident ID, a command): no
 * control or invisible formatting character, which would forge a line of
 * the tools' output (a newline in `incident` printed its own "warning:") or
 * hide part of the value. `multiline` lets a kubeconfig's contents keep
 * their line breaks and tabs.
 */
export const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const CONTROL_BUT_LINES = /(?![\t\n\r])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
export const TEXT_RULE = "text without control characters (no line breaks, tabs or invisible formatting characters)";
export function text(options: { multiline?: boolean } = {}) {
    const re = options.multiline ? CONTROL_BUT_LINES : CONTROL;
    const rule = options.multiline ? "text without control characters other than line breaks and tabs" : TEXT_RULE;
    return z.string().refine((v) => !re.test(v), { message: rule });
}

/** A name listed in config (a secret to remove, a stack): text, and never a reserved name. */
function name(schema: z.ZodString = text()) {
    return schema.refine((v) => !RESERVED_NAMES.includes(v), { message: RESERVED_RULE });
}

/** Documentation of a default that parseConfig computes (shown in the reference and the JSON Schema). */
function computedDefault<T extends z.ZodType>(schema: T, text: string): T {
    return schema.meta({ computedDefault: text }) as T;
}

const ENV_RULE = "an environment variable name: letters, digits and _, not starting with a digit";
const envMap = nameMapOrEmpty(z.string().regex(ENV_NAME, ENV_RULE), text());

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;

/** A workload the program does not own: it writes only the rotation's fields into it (server-side apply). */
export const ownedElsewhereSchema = z.strictObject({
    kind: z.enum(WORKLOAD_KINDS).describe("Kind of the existing workload."),
    name: z.string().regex(NAME).max(63).describe("Its metadata.name, in the stack's namespace."),
    container: z
        .string()
        .regex(NAME)
        .max(63)
        .describe(
            "The container that gets the credentials, by its name in the owner's pod template. Required: the patch merges into the container of that name, and a name the pod does not have would add a container without an image, which the API server refuses in the middle of an up.",
        ),
});

export const serviceSchema = z.strictObject({
    image: text().min(1).optional().describe("Container image (required unless `ownedElsewhere`)."),
    ownedElsewhere: ownedElsewhereSchema
        .optional()
        .describe(
            "The service's workload exists and is owned by another tool (Helm, Argo CD, another stack). The program then writes only the pod-template annotation, the environment references, the projected volume and its mounts, with server-side apply under its own field manager, and leaves every other field to the owner; `image`, `workload`, `replicas`, `env`, `port` and `args` are the owner's and are refused here. Ordering and waits are the same.",
        ),
    workload: z
        .enum(WORKLOAD_KINDS)
        .default("Deployment")
        .describe(
            "The workload the program declares for the service: a Deployment, a StatefulSet (rolls pod by pod, e.g. Redis or NATS) or a DaemonSet (one pod per node). The same waits and order apply to each.",
        ),
    replicas: z.number().int().min(0).max(1000).default(1).describe("Pod count (not for a DaemonSet: one pod per node)."),
    env: envMap.describe("Plain (not secret) environment variables, name to value."),
    port: z.number().int().min(1).max(65535).optional().describe("Container port, if the service listens on one."),
    args: z.array(text()).optional().describe("Container arguments, e.g. a server's config file flag."),
    runAs: z
        .strictObject({
            user: z.number().int().min(1).max(2_147_483_647).describe("UID the containers run as (never 0)."),
            group: z
                .number()
                .int()
                .min(1)
                .max(2_147_483_647)
                .describe("GID they run as; the pod's fsGroup, which owns the delivered files."),
        })
        .optional()
        .describe(
            "The non-root user and group of the service's containers. Files are then delivered at 0440 owned by that group (fsGroup), never world-readable; without it at 0400, readable by root only. Not with `ownedElsewhere`: the patch cannot set the pod's fsGroup, which is what makes 0440 files readable to the group.",
        ),
});

const generation = z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .describe("The generation the stage is about: the new one in `overlap` and `revert`; an integer from 1.");
const stage = z.enum(STAGES).describe("`stable`, `overlap`, `revert` or `compromised` (docs/DESIGN.md, the stages).");
const services = (role: string) => z.array(name()).describe(role);

/** Fields every kind of secret has. */
const secretCommon = {
    generation,
    stage,
    keyId: computedDefault(z.string().regex(KEY_ID, KEY_ID_RULE), "`<secret>-g<generation>`")
        .optional()
        .describe(
            "Key ID of `generation`, what signatures and logs name it by: 1 to 63 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit, unique across every secret of the stack (compared ignoring case), and never `<other secret>-g<N>`, another secret's default.",
        ),
    previousKeyId: computedDefault(z.string().regex(KEY_ID, KEY_ID_RULE), "`<secret>-g<generation-1>`")
        .optional()
        .describe("Key ID of the previous generation while it is live; required when `keyId` is declared and the stage keeps a secondary."),
    verifiers: services(
        "Services that accept the credential (HMAC listeners, the Redis or NATS server); empty when an AWS resource or the exchange verifies.",
    ),
    presenters: services("Services that use the credential; a service is never both verifier and presenter of one secret."),
    minOverlapHours: z
        .number()
        .int()
        .min(0)
        .max(24 * 365)
        .default(24)
        .describe(
            "Hours in `overlap` before `stable` may retire the secondary. The value in force when the overlap was applied is the one that holds (the ledger records it).",
        ),
    force: z
        .boolean()
        .default(false)
        .describe(
            "Skip the minimum-overlap wait and the verification proof for this step; the plan and the ledger say so. Remove it afterwards.",
        ),
    incident: text().min(1).optional().describe("Incident ID; required with `compromised`."),
};

const maxAgeDays = (days: number) =>
    z
        .number()
        .int()
        .min(1)
        .max(3650)
        .default(days)
        .describe(
            "Days after the presenters' generation was created at which rotation is due (the policy pack and `rotate status` report it).",
        );

export const hmacSecretSchema = z.strictObject({
    kind: z.literal("hmac").describe("An HMAC key shared between signers and listeners."),
    ...secretCommon,
    maxAgeDays: maxAgeDays(90),
    envPrefix: z
        .string()
        .regex(ENV_NAME)
        // The variables are also the keys of the Secret object's data: the API server refuses one past 253 mid-up.
        .max(DATA_KEY_MAX - "_SECRET_SECONDARY".length)
        .default("TITAN_HMAC")
        .describe(
            "Prefix of the delivered variables (`<prefix>_SECRET_PRIMARY`, ...); two secrets delivered to one service need different prefixes. At most 236 characters: each variable is also a key of the Secret object (at most 253).",
        ),
});

/** Redis ACL rules and NATS subjects are checked against their servers' grammars in serverConfig.ts. */
const permissions = (what: string, byDefault: string) => text().min(1).default(byDefault).describe(what);

const rdsBackend = z.strictObject({
    type: z.literal("rds").describe("An AWS RDS instance's master password: one slot, so no `overlap`."),
    identifier: z.string().regex(AWS_ID).describe("The RDS instance identifier whose master password this secret is."),
    instanceClass: text()
        .min(1)
        .describe("The instance's class, e.g. db.r6g.large (the AWS provider requires it; only the password is changed)."),
    username: z.string().regex(USERNAME).default("titan").describe("The master user."),
    file: z.string().regex(FILE).default("db").describe("Presenters get /run/secrets/<file>_password and <file>_username."),
});
const elasticacheBackend = z.strictObject({
    type: z.literal("elasticache").describe("An AWS ElastiCache replication group's auth token: two slots (ROTATE, then SET)."),
    identifier: z.string().regex(AWS_ID).describe("The ElastiCache replication group ID whose auth token this secret is."),
    username: z.string().regex(USERNAME).default("default").describe("The user presenters log in as."),
    file: z.string().regex(FILE).default("redis").describe("Presenters get /run/secrets/<file>_password and <file>_username."),
});
const redisBackend = z.strictObject({
    type: z
        .literal("redis")
        .describe("A Redis server in the cluster (a service listed under verifiers) whose ACL file the program owns: two slots."),
    username: z.string().regex(USERNAME).default("titan").describe("The ACL user."),
    permissions: permissions("Redis ACL rules of the user (key patterns, channels, commands); no password or on/off rules.", "~* &* +@all"),
    port: z.number().int().min(1).max(65535).default(6379).describe("The server's port."),
    file: z.string().regex(FILE).default("redis").describe("Presenters get /run/secrets/<file>_password and <file>_username."),
});
const natsBackend = z.strictObject({
    type: z.literal("nats").describe("A NATS server in the cluster whose config the program owns: one user per generation, two slots."),
    username: z.string().regex(USERNAME).default("titan").describe("Base user name; NATS logs in as `<username>-g<N>`."),
    permissions: permissions("NATS subject the user may publish and subscribe to (wildcards `*` and `>`).", ">"),
    port: z.number().int().min(1).max(65535).default(4222).describe("The port the rendered NATS config listens on."),
    file: z.string().regex(FILE).default("nats").describe("Presenters get /run/secrets/<file>_password and <file>_username."),
});
export const backendSchema = z
    .discriminatedUnion("type", [rdsBackend, elasticacheBackend, redisBackend, natsBackend])
    .describe("Where the password is checked.");

export const passwordSecretSchema = z.strictObject({
    kind: z.literal("password").describe("A service credential (database, Redis, NATS), generated by the program."),
    ...secretCommon,
    maxAgeDays: maxAgeDays(180),
    backend: backendSchema,
    length: z.number().int().min(16).max(128).default(32).describe("Characters of each generated password (letters and digits)."),
});

export const verificationSchema = z.strictObject({
    image: text().min(1).describe("Image of the Job that proves a new key works."),
    command: z.array(text()).min(1).describe("Its command, e.g. a minimum-size test order in lab mode."),
    env: envMap.describe("Plain environment variables of the Job."),
    timeoutSeconds: z.number().int().min(10).max(3600).default(600).describe("Seconds before the Job is failed."),
});

export const apiKeySecretSchema = z.strictObject({
    kind: z
        .literal("apiKey")
        .describe("An exchange API key, made by a person on the exchange; its values are secure config (`exchangeKeys`)."),
    ...secretCommon,
    maxAgeDays: maxAgeDays(90),
    exchange: z
        .string()
        .regex(/^[a-z][a-z0-9-]{0,30}$/)
        .describe("The exchange the key belongs to, e.g. bybit; names the delivered files."),
    verification: verificationSchema.optional().describe("The Job run after the presenters in `overlap`; `stable` waits for its success."),
    revoked: z.array(z.number().int().min(1)).default([]).describe("Generations revoked at the exchange (ends the reminder)."),
});

export const secretSchema = z.discriminatedUnion("kind", [hmacSecretSchema, passwordSecretSchema, apiKeySecretSchema]);

export const kubernetesSchema = z.strictObject({
    namespace: z
        .string()
        .regex(NAME)
        .max(DNS_LABEL_MAX)
        .default("titan")
        .describe("Namespace of every object (it must exist): an RFC 1123 label, at most 63 lower-case letters, digits and '-'."),
    renderDir: text()
        .min(1)
        .optional()
        .describe("Render manifests into this folder instead of applying them (dev). Rendered Secrets hold plaintext (mode 0600)."),
    kubeconfig: text({ multiline: true })
        .min(1)
        .optional()
        .describe(
            "A kubeconfig file (path or contents); default: KUBECONFIG or ~/.kube/config. The provider and the roll-out waits both use it.",
        ),
    context: text().min(1).optional().describe("kubeconfig context of the cluster; default: the current one."),
    rolloutTimeoutSeconds: z
        .number()
        .int()
        .min(10)
        .max(86_400)
        .default(600)
        .describe("Seconds one workload may take to roll out before the up fails, naming it and the secret."),
});

export const storesSchema = z.strictObject({
    vault: z
        .strictObject({
            address: text().min(1).optional().describe("Vault address; default: VAULT_ADDR."),
            mount: z
                .string()
                .regex(/^[a-zA-Z0-9_-]+$/)
                .default("secret")
                .describe("KV v2 mount."),
            path: computedDefault(z.string().regex(/^[a-zA-Z0-9_/-]+$/), "`titan/<stack>`")
                .optional()
                .describe("Path prefix below the mount; the secret's name follows."),
        })
        .optional()
        .describe("HashiCorp Vault KV v2: one path per secret, `current` and `previous`."),
    secretsManager: z
        .strictObject({
            prefix: computedDefault(z.string().regex(/^[a-zA-Z0-9/_+=.@-]*$/), "`titan/<stack>/`")
                .optional()
                .describe("Name prefix; the secret's name follows."),
            kmsKeyId: text().min(1).optional().describe("KMS key of the secrets; default: the account's."),
        })
        .optional()
        .describe("AWS Secrets Manager: one secret per credential, a version per generation."),
});

export const monitoringSchema = z.strictObject({
    prometheusRule: z.boolean().default(false).describe("Own a PrometheusRule that alerts on auth_failures while a rotation is under way."),
    labels: nameMapOrEmpty(
        z.string().refine(isLabelKey, { message: LABEL_KEY_RULE }),
        z.string().refine(isLabelValue, { message: LABEL_VALUE_RULE }),
    ).describe("Labels the Prometheus operator selects rules by (Kubernetes label keys and values)."),
});

export const awsSchema = z.strictObject({
    region: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
        .optional()
        .describe("AWS region; required when Secrets Manager or an AWS backend is used."),
});

/** exchangeKeys.<secret>.g<N>.apiKey / .apiSecret, secure values (their presence is checked in exchangeKeys.ts). */
export const exchangeKeysSchema = nameMap(
    name(),
    nameMap(z.string().regex(/^g\d+$/), z.strictObject({ apiKey: z.string().optional(), apiSecret: z.string().optional() })),
).describe(
    "Secure: `<secret>.g<N>.apiKey` and `.apiSecret` for each live generation of each API key (pulumi config set --secret --path ...).",
);

export const removeSecretsSchema = z
    .array(name())
    .describe(
        "Secrets to remove in this up: each must have left `secrets` at `stable`; its consumers roll without it (presenters first), then its keys and objects are deleted. Remove the entry after the up.",
    );

/** A stack of the same project (`eu`) or of another (`organization/titan-secrets/eu`). */
const stackName = name(z.string().regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/)).describe(
    "A stack name: `eu` (same organization and project) or `<organization>/<project>/<stack>`.",
);

/**
 * One key ring, many clusters (docs/DESIGN.md, "Many clusters"): the stack
 * that owns the keys, and one workload stack per cluster.
 */
export const FLEET_ROLES = ["all", "keys", "workloads"] as const;

export const fleetSchema = z
    .discriminatedUnion("role", [
        z.strictObject({
            role: z.literal("all").describe("One stack owns the keys and the workloads of one cluster (the default)."),
        }),
        z.strictObject({
            role: z
                .literal("keys")
                .describe(
                    "The key ring: this stack makes the keys, writes the stores of record and keeps the ledger; it declares no workload. Its secrets have no consumers (each cluster's workload stack names them under `consumers`).",
                ),
            clusters: z
                .array(stackName)
                .min(1)
                .describe(
                    "The workload stacks that follow this key ring. A generation leaves the ring only once no cluster's presenters use it.",
                ),
        }),
        z.strictObject({
            role: z
                .literal("workloads")
                .describe(
                    "A cluster: this stack reads the keys from the key ring (a StackReference, secret outputs) and delivers them to its services. Its presenters move to a new generation only once every cluster's verifiers hold it.",
                ),
            keyRing: stackName.describe("The key stack this cluster follows."),
        }),
    ])
    .describe("The stack's part in a fleet of clusters: `all` (default), `keys` or `workloads`.");

export const consumerSchema = z.strictObject({
    verifiers: services("Services of this cluster that accept the key."),
    presenters: services("Services of this cluster that sign or log in with it."),
});
export const consumersSchema = nameMap(text(), consumerSchema).describe(
    "A workload stack's consumers of each secret of its key ring (only with fleet.role `workloads`).",
);

/**
 * Every key of the project's namespace, `titan-secrets:<key>`, and what it
 * holds. A key not listed here is refused (a typo would otherwise drop a
 * whole part of the config without a word).
 */
export const CONFIG_SECTIONS = {
    kubernetes: kubernetesSchema,
    services: nameMap(text(), serviceSchema).describe("Workloads by name (a Kubernetes name)."),
    secrets: nameMap(text(), secretSchema).describe("Secrets by name (at most 40 lower-case letters, digits and '-')."),
    removeSecrets: removeSecretsSchema,
    exchangeKeys: exchangeKeysSchema,
    stores: storesSchema,
    monitoring: monitoringSchema,
    aws: awsSchema,
    fleet: fleetSchema,
    consumers: consumersSchema,
} as const;

export type ConfigSection = keyof typeof CONFIG_SECTIONS;
export const CONFIG_KEYS = Object.keys(CONFIG_SECTIONS) as ConfigSection[];

// The parsed config, derived from the schemas.
export type ServiceConfig = z.output<typeof serviceSchema>;
export type HmacSecretConfig = z.output<typeof hmacSecretSchema>;
export type PasswordSecretConfig = z.output<typeof passwordSecretSchema>;
export type ApiKeySecretConfig = z.output<typeof apiKeySecretSchema>;
export type BackendConfig = z.output<typeof backendSchema>;
export type VerificationSpec = z.output<typeof verificationSchema>;
export type KubernetesSpec = z.output<typeof kubernetesSchema>;
export type MonitoringSpec = z.output<typeof monitoringSchema>;
export type AwsSpec = z.output<typeof awsSchema>;
export type FleetSpec = z.output<typeof fleetSchema>;
export type ConsumersSpec = z.output<typeof consumersSchema>;
