// Names of the Kubernetes objects the program makes, derived from the model
// alone, so the program, the policy pack and the tests agree on them.

import { WORKLOAD_KINDS } from "./schema";
import { Role } from "./types";

/**
 * metadata.name of a role's Secret object. It names the generations it holds,
 * so new content means a new object (replaced, not edited: safety rule 3 in
 * docs/DESIGN.md), and a pod that restarts mid-up still finds the object its
 * template names.
 */
export function secretObjectName(secret: string, role: Role, generations: number[]): string {
    return `${secret}-${role}s-${generations.map((g) => `g${g}`).join("-")}`;
}

/** The Job that proves generation `generation` of an API key works at its exchange. */
export function verificationJobName(secret: string, generation: number): string {
    return `verify-${secret}-g${generation}`;
}

/** The label the program puts on every object it makes (a user's label may not replace it). */
export const MANAGED_BY: Readonly<Record<string, string>> = { "app.kubernetes.io/managed-by": "titan-secrets" };

/**
 * The Pulumi resource name of the StackReference a key stack reads a
 * cluster's ledger through: two clusters whose names map to the same one
 * would be a duplicate URN (`eu/a` and `eu-a`), so the config refuses them.
 */
export function clusterResourceName(stack: string): string {
    return `fleet-${stack.replace(/\//g, "-")}`;
}

/**
 * The resource types of a service's workload: each kind the program declares
 * (`workload`), and its patch for a workload owned elsewhere. The policy pack,
 * the engine harness and the tests find workloads by these.
 */
export const WORKLOAD_TYPES: readonly string[] = WORKLOAD_KINDS.flatMap((k) => [`kubernetes:apps/v1:${k}`, `kubernetes:apps/v1:${k}Patch`]);
