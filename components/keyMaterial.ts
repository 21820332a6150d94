// KeyMaterial: what TitanSecrets needs of any kind of secret. Each kind
// (HmacKeyRing, PasswordCredential, ApiKeyCredential) makes or receives one
// value per live generation and knows what each role's Secret object holds.

import * as pulumi from "@pulumi/pulumi";
import { Role, SecretPlan, SecretSpec } from "../model";

export interface KeyMaterial extends pulumi.ComponentResource {
    /** One value per live generation, a secret Output (what the stores of record keep). */
    readonly values: ReadonlyMap<number, pulumi.Output<string>>;
    /** The data of one role's Kubernetes Secret object. */
    dataFor(role: Role): Record<string, pulumi.Input<string>>;
    /** The AWS resource that verifies the credential (an RDS instance, an ElastiCache group), when one does. */
    readonly backendResource?: pulumi.Resource;
}

/** A secret's plan, its spec narrowed to one kind. */
export type PlanOf<S extends SecretSpec> = Omit<SecretPlan, "spec"> & { spec: S };

/** Narrows a plan by the kind of its secret. */
export function isKind<K extends SecretSpec["kind"]>(p: SecretPlan, kind: K): p is PlanOf<Extract<SecretSpec, { kind: K }>> {
    return p.spec.kind === kind;
}

/** The type token of a component: titan-secrets:<module>:<Class>. */
export function typeToken(module: string, cls: string): string {
    return `titan-secrets:${module}:${cls}`;
}

/**
 * Options with an alias for the type token a component had before: an
 * existing stack then keeps its resources (and their children, whose URNs
 * carry the parent's type) instead of replacing them.
 */
export function formerly(type: string, opts: pulumi.ComponentResourceOptions = {}): pulumi.ComponentResourceOptions {
    return { ...opts, aliases: [...(opts.aliases ?? []), { type }] };
}
