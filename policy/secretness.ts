// Which entries of a Kubernetes Secret's data/stringData are Pulumi secrets.
//
// @pulumi/policy 1.21.0 hands validations plain values with secretness
// removed; only remediations see it (their props wrap secret values in
// policy.Secret, behind the SDK's proxies). So a remediate-level policy,
// `secretness-probe`, records what it sees per URN and changes nothing; the
// engine runs every remediation of a resource before its validations, in the
// same analyzer process, where `key-material-is-secret` reads the record.

import { Secret } from "@pulumi/policy";
import { Secretness } from "./rules";

/** The SDK's proxy markers (@pulumi/policy proxy.ts: isSpecialProxy, getSpecialProxyTarget). */
const IS_PROXY = "__isSpecialProxy";
const PROXY_TARGET = "__getSpecialProxyTarget";

/** Unwraps the SDK's proxies (unknown-checking, then secrets-preserving) down to the raw values. */
export function rawProps(props: unknown): unknown {
    let v = props as Record<string, unknown> | undefined;
    for (let i = 0; i < 4 && v !== null && typeof v === "object" && v[IS_PROXY] === true; i++) {
        v = v[PROXY_TARGET] as Record<string, unknown> | undefined;
    }
    return v;
}

/** The data/stringData entries of raw Secret props that are not Pulumi secrets. */
export function secretnessOf(raw: unknown): Secretness {
    const plain: string[] = [];
    if (raw === null || typeof raw !== "object") return { plain };
    for (const field of ["data", "stringData"]) {
        const map = (raw as Record<string, unknown>)[field];
        if (map === undefined || map === null || map instanceof Secret || typeof map !== "object") continue;
        for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
            if (v !== undefined && v !== null && !(v instanceof Secret)) plain.push(`${field}.${k}`);
        }
    }
    return { plain };
}

/** URN -> what the probe saw, for the validations that follow it. */
export const probed = new Map<string, Secretness>();
