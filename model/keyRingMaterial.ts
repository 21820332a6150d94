// What a workload stack of a fleet receives from its key stack's secret
// `keyMaterial` output (docs/DESIGN.md "Many clusters"), checked before any
// resource is declared: a key for every live generation of every secret this
// cluster consumes, each of the shape the key ring makes, and nothing the
// key ring's stage does not hold live. Anything else would fail inside an
// apply with no config key, or be delivered to the pods as it is.
// Messages name the key stack, the secret and the generation; never a value
// (a key, or whatever the output holds in its place).

import { ConfigIssue, configKey } from "./errors";
import { specView } from "./stages";
import { SecretSpec } from "./types";

/** An HMAC key is 32 random bytes (components/hmacKeyRing.ts makes them, as `openssl rand -hex 32` does). */
export const HMAC_KEY_BYTES = 32;

/** An HMAC key as the key ring makes and delivers it: its bytes in lower-case hex (consumer/hmac.ts refuses any other). */
export const HMAC_KEY = new RegExp(`^[0-9a-f]{${HMAC_KEY_BYTES * 2}}$`);

/** The key stack's `keyMaterial` output as StackReference.getOutputDetails gives it. */
export interface KeyMaterialOutput {
    /** Secret -> `g<generation>` -> key; undefined when the key stack exports none. */
    value: unknown;
    /** Whether the output is a Pulumi secret. */
    secret: boolean;
}

/** The keys a workload stack delivers: secret -> generation -> key. */
export type ReceivedKeys = ReadonlyMap<string, ReadonlyMap<number, string>>;

/** What a value is, for a message: its type and length, never its content. */
function shapeOf(v: unknown): string {
    if (v === undefined) return "nothing";
    if (v === null) return "null";
    if (typeof v === "string") return v.length === 0 ? "an empty string" : `a ${v.length}-character string`;
    if (Array.isArray(v)) return "a list";
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Checks the key stack's `keyMaterial` against the secrets this cluster
 * consumes (`secrets`: the key ring's declaration, so each one's live
 * generations are what the key ring's stage holds live) and returns their
 * keys, or every problem found. Undefined (no output, or one unknown in a
 * preview) is refused like a missing key: the keys come from the key
 * stack's last up, and without one there is nothing to deliver.
 */
export function readKeyMaterial(
    output: KeyMaterialOutput,
    keyStack: string,
    secrets: Iterable<SecretSpec>,
): { keys: ReceivedKeys } | { issues: ConfigIssue[] } {
    const key = configKey(["fleet", "keyRing"]);
    const stack = JSON.stringify(keyStack);
    const upFirst = `run pulumi up -s ${keyStack} first (the key stack makes the key of every live generation and exports them)`;
    const issue = (found: string, allowed: string, fix = upFirst): ConfigIssue => ({ key, found: `${stack}, ${found}`, allowed, fix });
    const wanted = [...secrets];
    if (wanted.length === 0) return { keys: new Map() };
    const raw = output.value;
    if (raw === undefined || raw === null) {
        return {
            issues: [
                issue(
                    "which exports no keyMaterial output (it has not run pulumi up, or ran a version of titan-secrets without fleets)",
                    `a key stack whose last pulumi up exported keyMaterial: the key of every live generation of ${wanted.map((s) => s.name).join(", ")}`,
                ),
            ],
        };
    }
    if (!output.secret) {
        return {
            issues: [
                issue(
                    "whose keyMaterial output is not a Pulumi secret: its keys are in plain text in that stack's state and outputs",
                    "a keyMaterial output marked secret, as the key stack exports it",
                    `treat those keys as exposed: set the stage of each secret in ${keyStack} to compromised and run pulumi up -s ${keyStack} first`,
                ),
            ],
        };
    }
    if (!isMap(raw)) {
        return {
            issues: [
                issue(
                    `whose keyMaterial output is ${shapeOf(raw)}, not a map of secrets`,
                    "the keyMaterial output of a key stack of this version of titan-secrets",
                ),
            ],
        };
    }
    const issues: ConfigIssue[] = [];
    const keys = new Map<string, Map<number, string>>();
    const hex = `${HMAC_KEY_BYTES * 2} lower-case hex digits, the shape the key ring makes (openssl rand -hex ${HMAC_KEY_BYTES})`;
    for (const s of wanted) {
        const live = specView(s).live;
        const holds = `the key ring holds ${s.stage} at generation ${s.generation}, live: ${live.map((g) => `g${g}`).join(", ")}`;
        const allowed = `a key of ${hex} for each live generation of ${s.name}`;
        const perGeneration = Object.hasOwn(raw, s.name) ? raw[s.name] : undefined;
        if (!isMap(perGeneration)) {
            issues.push(
                issue(
                    `whose keyMaterial output has ${perGeneration === undefined ? "no keys" : shapeOf(perGeneration)} for ${s.name} (${holds})`,
                    allowed,
                ),
            );
            continue;
        }
        const mine = new Map<number, string>();
        for (const g of live) {
            const v = Object.hasOwn(perGeneration, `g${g}`) ? perGeneration[`g${g}`] : undefined;
            if (v === undefined)
                issues.push(issue(`whose keyMaterial output has no key for ${s.name} generation ${g} (${holds})`, allowed));
            else if (typeof v !== "string" || !HMAC_KEY.test(v))
                issues.push(
                    issue(`whose keyMaterial output for ${s.name} generation ${g} is not a key: ${shapeOf(v)} (${holds})`, allowed),
                );
            else mine.set(g, v);
        }
        // The two outputs come from one up of the key stack; a key of a generation its stage does not
        // hold live means they disagree, and nothing then says which generation a key is.
        const extra = Object.keys(perGeneration).filter((k) => !live.some((g) => k === `g${g}`));
        if (extra.length > 0) {
            // Only names of the form g<N> are shown: another name could be anything, even a key.
            const named = extra.filter((k) => /^g[0-9]{1,15}$/.test(k));
            const others = extra.length - named.length;
            const list = [...named, ...(others > 0 ? [`${others} entr${others === 1 ? "y" : "ies"} not named g<generation>`] : [])].join(
                ", ",
            );
            issues.push(
                issue(
                    `whose keyMaterial output for ${s.name} also holds ${list}, which is not live (${holds}): its keyRing and keyMaterial outputs disagree`,
                    `keys for the live generations of ${s.name} only`,
                ),
            );
        }
        keys.set(s.name, mine);
    }
    // One key under two names (two generations, or two secrets) is no rotation: the key ring made
    // each from its own random bytes, so a repeat is a copied or edited output. Named, never shown.
    const seen = new Map<string, string>();
    for (const [secret, mine] of keys) {
        for (const [g, v] of mine) {
            const where = `${secret} generation ${g}`;
            const first = seen.get(v);
            if (first === undefined) seen.set(v, where);
            else
                issues.push(
                    issue(
                        `whose keyMaterial output for ${where} is the same key as for ${first}`,
                        "a key of its own for each live generation of each secret (the key ring makes each from fresh random bytes)",
                    ),
                );
        }
    }
    return issues.length > 0 ? { issues } : { keys };
}
