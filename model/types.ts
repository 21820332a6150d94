// The vocabulary of DESIGN.md, as types. Pure: no Pulumi import anywhere in
// model/, so every decision here is testable without an engine.

/** The rotation stage declared in stack config (DESIGN.md, "One model"). */
export type Stage = "stable" | "overlap" | "revert" | "compromised";
export const STAGES: readonly Stage[] = ["stable", "overlap", "revert", "compromised"];

/**
 * The kinds of secret: HMAC keys shared between services, service
 * passwords, and exchange API keys (created by a person on the exchange).
 */
export type SecretKind = "hmac" | "password" | "apiKey";
export const KINDS: readonly SecretKind[] = ["hmac", "password", "apiKey"];

/** API keys: the command that proves a new key works (runbook: a minimum-size test order in Lab Mode). */
export interface VerificationSpec {
    image: string;
    command: string[];
    env: Record<string, string>;
    /** Seconds before the Job is failed. */
    timeoutSeconds: number;
}

/**
 * Where a password is checked (the verifier side). `rds` and `elasticache`
 * are AWS resources the program updates; `redis` and `nats` are servers
 * running in the cluster, declared as services and listed as verifiers.
 */
export type BackendType = "rds" | "elasticache" | "redis" | "nats";
export const BACKENDS: readonly BackendType[] = ["rds", "elasticache", "redis", "nats"];

export interface BackendSpec {
    type: BackendType;
    /** Credentials the verifier can hold at once: 1 (RDS master password) or 2. */
    slots: 1 | 2;
    /** AWS identifier: the RDS instance or the ElastiCache replication group. */
    identifier?: string;
    /** RDS only: the instance class, as the AWS provider requires it. */
    instanceClass?: string;
    /** The user the password belongs to (NATS: one user per generation, `<username>-g<N>`). */
    username: string;
    /** Redis ACL rules or NATS permissions granted to the user. */
    permissions: string;
    /** In-cluster servers: the port the rendered config listens on (NATS). */
    port: number;
    /** Base of the files presenters get under /run/secrets: `<file>_password`, `<file>_username`. */
    file: string;
}

/** A consumer's relation to one secret. */
export type Role = "verifier" | "presenter";

export interface ServiceSpec {
    name: string;
    image: string;
    /** Pod count; default 1. */
    replicas: number;
    /** Plain (non-secret) environment variables. */
    env: Record<string, string>;
    /** Container port, if the service listens on one. */
    port?: number;
    /** Container arguments (e.g. a server's config file flag). */
    args?: string[];
}

export interface SecretSpec {
    name: string;
    kind: SecretKind;
    /** The generation the stage is about: the new one in `overlap`/`revert`. */
    generation: number;
    stage: Stage;
    /** Key ID of `generation`; default `<name>-g<generation>`. */
    keyId: string;
    /** Key ID of `generation - 1` while it is live; default `<name>-g<generation-1>`. */
    previousKeyId: string;
    verifiers: string[];
    presenters: string[];
    maxAgeDays: number;
    minOverlapHours: number;
    /** Skip the minimum-overlap wait when retiring the secondary. */
    force: boolean;
    incident?: string;
    /** Prefix of the delivered environment variables; default `TITAN_HMAC`. */
    envPrefix: string;
    /** Passwords: the backend that verifies them. */
    backend?: BackendSpec;
    /** Passwords: characters per generated password. */
    length: number;
    /** API keys: the exchange that verifies them (e.g. bybit, mexc). */
    exchange?: string;
    /** API keys: run after the presenters' wave of an overlap; stable waits for its success. */
    verification?: VerificationSpec;
    /** API keys: generations the operator has revoked at the exchange. */
    revoked: number[];
}

export interface KubernetesSpec {
    namespace: string;
    /** Render manifests into this folder instead of applying them to a cluster. */
    renderDir?: string;
    /** A kubeconfig file (path or contents) for a real cluster; the ambient one (KUBECONFIG, ~/.kube/config) when absent. */
    kubeconfig?: string;
    /** kubeconfig context for a real cluster; the ambient one when absent. */
    context?: string;
    /** How long one workload may take to roll out before the up fails (the Deployment default progress deadline: 600). */
    rolloutTimeoutSeconds: number;
}

/** HashiCorp Vault KV v2: one path per secret, current and previous value. */
export interface VaultStoreSpec {
    /** Vault address; the provider's VAULT_ADDR when absent. */
    address?: string;
    /** KV v2 mount. */
    mount: string;
    /** Path prefix below the mount; the secret's name follows. */
    path: string;
}

/** AWS Secrets Manager: one secret per credential, a version per generation. */
export interface SecretsManagerStoreSpec {
    /** Name prefix; the secret's name follows. */
    prefix: string;
    kmsKeyId?: string;
}

export interface StoresSpec {
    vault?: VaultStoreSpec;
    secretsManager?: SecretsManagerStoreSpec;
}

export interface AwsSpec {
    region?: string;
}

export interface MonitoringSpec {
    /** Create the PrometheusRule that alerts on auth_failures during rotations. */
    prometheusRule: boolean;
    /** Labels the Prometheus operator selects rules by. */
    labels: Record<string, string>;
}

export interface StackSpec {
    kubernetes: KubernetesSpec;
    stores: StoresSpec;
    monitoring: MonitoringSpec;
    aws: AwsSpec;
    services: Map<string, ServiceSpec>;
    secrets: Map<string, SecretSpec>;
}

/** One generation's key as the ledger records it (never its value). */
export interface LedgerKey {
    generation: number;
    keyId: string;
    /** ISO time the generation first became live. */
    createdAt: string;
}

/** A secret's row in the rotation ledger, exported as a stack output. */
export interface LedgerEntry {
    kind: SecretKind;
    generation: number;
    stage: Stage;
    /** ISO time the (generation, stage) pair was first applied. */
    stageAppliedAt: string;
    /** Key the presenters use. */
    presenterKeyId: string;
    /** Key IDs the verifiers accept, primary first. */
    verifierKeyIds: string[];
    /** Live generations, newest first. */
    keys: LedgerKey[];
    /** ISO time the presenters' generation reaches `maxAgeDays`. */
    dueAt: string;
    incident?: string;
    /** API keys: the last generation whose verification Job succeeded, and when. */
    verified?: { generation: number; at: string };
    /** API keys: retired generations not yet recorded as revoked at the exchange. */
    pendingRevocations?: { generation: number; keyId: string }[];
}

export type Ledger = Record<string, LedgerEntry>;
