// The vocabulary of DESIGN.md, as types. Pure: no Pulumi import anywhere in
// components/model/, so every decision here is testable without an engine.

/** The rotation stage declared in stack config (DESIGN.md, "One model"). */
export type Stage = "stable" | "overlap" | "revert" | "compromised";
export const STAGES: readonly Stage[] = ["stable", "overlap", "revert", "compromised"];

/** The kinds of secret. This issue implements `hmac`. */
export type SecretKind = "hmac";
export const KINDS: readonly SecretKind[] = ["hmac"];

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
}

export interface KubernetesSpec {
    namespace: string;
    /** Render manifests into this folder instead of applying them to a cluster. */
    renderDir?: string;
    /** kubeconfig context for a real cluster; the ambient one when absent. */
    context?: string;
}

export interface StackSpec {
    kubernetes: KubernetesSpec;
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
}

export type Ledger = Record<string, LedgerEntry>;
