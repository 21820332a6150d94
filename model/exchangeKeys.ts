// Exchange API keys are created by a person on the exchange and handed to
// the program as secure stack config, one entry per generation:
//   titan-secrets:exchangeKeys.<secret>.g<N>.apiKey / .apiSecret
// The program checks only that they are there (never what they are).

import { ConfigIssue, configKey } from "./errors";
import { RESERVED_NAMES } from "./schema";
import { specView } from "./stages";
import { StackSpec } from "./types";

export const EXCHANGE_KEY_FIELDS = ["apiKey", "apiSecret"] as const;
export type ExchangeKeyField = (typeof EXCHANGE_KEY_FIELDS)[number];

/** Which fields are present, computed from the decrypted config without keeping any value. */
export function presenceOf(keys: unknown): Set<string> {
    const out = new Set<string>();
    if (!keys || typeof keys !== "object") return out;
    for (const [secret, gens] of Object.entries(keys as Record<string, unknown>)) {
        if (!gens || typeof gens !== "object") continue;
        for (const [gen, fields] of Object.entries(gens as Record<string, unknown>)) {
            if (!fields || typeof fields !== "object") continue;
            for (const f of EXCHANGE_KEY_FIELDS) {
                const v = (fields as Record<string, unknown>)[f];
                if (typeof v === "string" && v.length > 0) out.add(`${secret}/${gen}/${f}`);
            }
        }
    }
    return out;
}

/** Every live generation of every API key needs its key and secret, stored as secrets. */
export function checkExchangeKeys(spec: StackSpec, present: Set<string>, storedAsSecret: boolean): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const apiKeys = [...spec.secrets.values()].filter((s) => s.kind === "apiKey");
    if (apiKeys.length > 0 && present.size > 0 && !storedAsSecret) {
        issues.push({
            key: configKey(["exchangeKeys"]),
            found: "API keys stored in plain text in the stack file",
            allowed: "secure values only",
            fix: "remove them, revoke them at the exchange, create new ones and set them with pulumi config set --secret --path ...",
        });
    }
    // The schema's nameMap never sees these (they are read apart, as secrets): the same names are refused here.
    for (const entry of present) {
        const reserved = entry
            .split("/")
            .slice(0, 2)
            .find((n) => RESERVED_NAMES.includes(n));
        if (reserved === undefined) continue;
        const [secret, gen, field] = entry.split("/");
        issues.push({
            key: configKey(["exchangeKeys", secret, gen, field]),
            found: `the name ${JSON.stringify(reserved)}`,
            allowed: `any name but ${RESERVED_NAMES.join(", ")} (JavaScript reserves them)`,
        });
    }
    for (const s of apiKeys) {
        for (const g of specView(s).live) {
            for (const f of EXCHANGE_KEY_FIELDS) {
                if (present.has(`${s.name}/g${g}/${f}`)) continue;
                issues.push({
                    key: configKey(["exchangeKeys", s.name, `g${g}`, f]),
                    found: "nothing",
                    allowed: `the ${f === "apiKey" ? "API key" : "API secret"} of generation ${g}, created on ${s.exchange}, as a secret`,
                    fix: `pulumi config set --secret --path 'exchangeKeys.${s.name}.g${g}.${f}' <value>`,
                });
            }
        }
    }
    return issues;
}

/** What the checks need to know about the exchange keys: which fields are there, and whether they are secure config. */
export interface ExchangeKeyPresence {
    present: Set<string>;
    storedAsSecret: boolean;
}

export const NO_EXCHANGE_KEYS: ExchangeKeyPresence = { present: new Set(), storedAsSecret: false };

/**
 * The same facts from a stack file's `titan-secrets:exchangeKeys` value, read
 * without decrypting: a leaf `{ secure: <ciphertext> }` is present and secure,
 * a plain string is present in plain text. The key counts as stored as a
 * secret when its leaves are secure and none is plain text (Pulumi's own
 * `isConfigSecret`, all the program can ask, says secret when any leaf is).
 */
export function presenceInStackFile(value: unknown): ExchangeKeyPresence {
    let anySecure = false;
    const strip = (v: unknown): unknown => {
        if (!v || typeof v !== "object") return v;
        const o = v as Record<string, unknown>;
        if (Object.keys(o).length === 1 && typeof o.secure === "string") {
            anySecure = true;
            return o.secure.length > 0 ? "(secure)" : "";
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, strip(x)]));
    };
    const present = presenceOf(strip(value));
    // Pulumi calls the whole key secret when one leaf is; the file is what is committed, so one
    // plain-text leaf beside secure ones (an apiSecret set without --secret) is plain text all the
    // same. Read unstripped, presenceOf finds exactly the plain ones (a { secure } leaf is no string).
    const plain = presenceOf(value).size > 0;
    return { present, storedAsSecret: anySecure && !plain };
}
