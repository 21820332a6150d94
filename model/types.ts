// The vocabulary of docs/DESIGN.md, as types. Pure: no Pulumi import anywhere in
// model/, so every decision here is testable without an engine.

import type {
    ApiKeySecretConfig,
    ConsumersSpec,
    FleetSpec,
    AwsSpec,
    BackendConfig,
    HmacSecretConfig,
    KubernetesSpec,
    MonitoringSpec,
    PasswordSecretConfig,
    ServiceConfig,
} from "./schema";
import { BACKENDS, KINDS, STAGES } from "./schema";

export { BACKENDS, KINDS, STAGES };
export type { AwsSpec, ConsumersSpec, FleetSpec, KubernetesSpec, MonitoringSpec, VerificationSpec } from "./schema";

/** The rotation stage declared in stack config (docs/DESIGN.md, the stages). */
export type Stage = (typeof STAGES)[number];

/** The kinds of secret: HMAC keys shared between services, service passwords, and exchange API keys. */
export type SecretKind = (typeof KINDS)[number];

/** Where a password is checked: AWS resources the program updates, or servers in the cluster. */
export type BackendType = (typeof BACKENDS)[number];

/** A consumer's relation to one secret. */
export type Role = "verifier" | "presenter";

export type ServiceSpec = ServiceConfig & { name: string };

/** A backend as configured, with how many credentials it holds at once: 1 (an RDS master password) or 2. */
export type BackendSpec = BackendConfig & { slots: 1 | 2 };

/** What parseConfig adds to every kind: the name, and the key IDs with their computed defaults. */
interface SpecCommon {
    name: string;
    /** Key ID of `generation`; default `<name>-g<generation>`. */
    keyId: string;
    /** Key ID of `generation - 1` while it is live; default `<name>-g<generation-1>`. */
    previousKeyId: string;
}

type WithCommon<C> = Omit<C, "keyId" | "previousKeyId"> & SpecCommon;

export type HmacSecretSpec = WithCommon<HmacSecretConfig>;
export type PasswordSecretSpec = WithCommon<Omit<PasswordSecretConfig, "backend">> & { backend: BackendSpec };
export type ApiKeySecretSpec = WithCommon<ApiKeySecretConfig>;

/** One secret, by kind: the fields of another kind do not exist on it. */
export type SecretSpec = HmacSecretSpec | PasswordSecretSpec | ApiKeySecretSpec;

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

export interface StackSpec {
    kubernetes: KubernetesSpec;
    stores: StoresSpec;
    monitoring: MonitoringSpec;
    aws: AwsSpec;
    services: Map<string, ServiceSpec>;
    secrets: Map<string, SecretSpec>;
    /** Secrets the config asks to remove in this up (`removeSecrets`). */
    removed: Set<string>;
    /** The stack's part in a fleet: one stack for all (default), the key ring, or one cluster's workloads. */
    fleet: FleetSpec;
    /** A workload stack's consumers of its key ring's secrets (empty in the other roles). */
    consumers: ConsumersSpec;
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
    /** The consumers at that up, so the next one sees who was added or removed (rows written before 2026-11 lack them). */
    verifiers?: string[];
    presenters?: string[];
    /**
     * The guards in force when the stage was applied. They hold until the
     * stage changes: lowering minOverlapHours, or removing an API key's
     * verification, in the change that retires the secondary does not
     * switch them off (only `force` does, and the ledger says so).
     */
    guard?: { minOverlapHours: number; verification: boolean };
    /** Key IDs of keys that were live and are gone: never given to a new key (a key ID names one key, ever). */
    retiredKeyIds?: string[];
    /** When `force` let the step into this stage past a guard, and which guards. */
    forced?: { at: string; guards: string[] };
    /**
     * A workload stack in an overlap whose presenters still use this
     * generation (the previous one) because some cluster's verifiers do not
     * hold the new one yet; its verifiers hold both.
     */
    presentersHeldAt?: number;
    /** The key stack: where each cluster stood at this up (read from its workload stack's ledger). */
    clusters?: Record<string, ClusterStanding>;
}

/** What one cluster's workload stack reports for a secret: the generations its verifiers and presenters hold. */
export interface ClusterStanding {
    verifiers: number[];
    presenters: number[];
    /** The cluster's last up, as its ledger row says (stage and generation it followed). */
    stage: Stage;
    generation: number;
}

/**
 * The ledger: one row per secret. Built without a prototype, so a secret
 * named `constructor` or `__proto__` is a row like any other.
 */
export type Ledger = Record<string, LedgerEntry>;
