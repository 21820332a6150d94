// The consumer side of an HMAC secret. Presenters sign with the primary key
// and send its key ID; verifiers pick the key by that ID among the primary
// and the secondary they hold, and refuse any other ID. That is what makes
// a rotation free of failures: in `overlap` a verifier holds the new key as
// primary and the old as secondary, so it accepts both while the presenters
// move, whatever order their pods restart in.

import { createHmac, timingSafeEqual } from "node:crypto";
import { AuthFailures } from "./metrics";

/** The headers a signed request carries (HTTP header names are case-insensitive: any spelling is read). */
export const KEY_ID_HEADER = "x-titan-key-id";
export const SIGNATURE_HEADER = "x-titan-signature";

/**
 * A key ID: 1 to 63 letters, digits, '.', '_' or '-', starting with a letter
 * or digit (no space, no control character: it is a header value and a log
 * field). The same rule as the program's config (model/keyId.ts KEY_ID;
 * test/consumer.test.ts keeps the two equal), copied so that this library
 * needs nothing of the program.
 */
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A MAC as sent: HMAC-SHA256's 32 bytes in hex, either case (hex allows both). */
const MAC_HEX = /^[0-9a-fA-F]{64}$/;

export interface HmacKey {
    keyId: string;
    /** The key as delivered: 64 hex characters (32 random bytes). */
    secret: string;
}

export interface HmacKeys {
    primary: HmacKey;
    /** Present while a second generation is live (overlap, revert). */
    secondary?: HmacKey;
}

export class HmacConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "HmacConfigError";
    }
}

/**
 * The keys from the environment the program delivers: `<P>_SECRET_PRIMARY`
 * and `<P>_KEY_ID`, and while a second generation is live
 * `<P>_SECRET_SECONDARY` and `<P>_KEY_ID_SECONDARY` (P is TITAN_HMAC unless
 * the secret sets `envPrefix`). Errors name variables, never values.
 */
export function hmacKeysFromEnv(env: NodeJS.ProcessEnv = process.env, prefix = "TITAN_HMAC"): HmacKeys {
    const get = (suffix: string) => env[`${prefix}_${suffix}`];
    const key = (secretVar: string, idVar: string): HmacKey | undefined => {
        const secret = get(secretVar);
        const keyId = get(idVar);
        if (secret === undefined && keyId === undefined) return undefined;
        if (!secret || !keyId) throw new HmacConfigError(`${prefix}_${secretVar} and ${prefix}_${idVar} come together; one is missing`);
        if (!/^[0-9a-f]{64}$/.test(secret)) throw new HmacConfigError(`${prefix}_${secretVar} is not 64 hex characters`);
        if (!KEY_ID.test(keyId))
            throw new HmacConfigError(
                `${prefix}_${idVar} is not a key ID: 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
            );
        return { keyId, secret };
    };
    const primary = key("SECRET_PRIMARY", "KEY_ID");
    if (!primary) throw new HmacConfigError(`${prefix}_SECRET_PRIMARY and ${prefix}_KEY_ID are not set`);
    const secondary = key("SECRET_SECONDARY", "KEY_ID_SECONDARY");
    // Compared as the program's config compares key IDs: case-insensitively.
    if (secondary?.keyId.toLowerCase() === primary.keyId.toLowerCase())
        throw new HmacConfigError(`${prefix}_KEY_ID_SECONDARY equals ${prefix}_KEY_ID: a key ID names one key`);
    // Two key IDs for one key: each generation has its own random key, so this is a copied variable.
    if (secondary?.secret === primary.secret)
        throw new HmacConfigError(`${prefix}_SECRET_SECONDARY equals ${prefix}_SECRET_PRIMARY: each generation has a key of its own`);
    return secondary ? { primary, secondary } : { primary };
}

function mac(key: HmacKey, body: string | Buffer): Buffer {
    return createHmac("sha256", Buffer.from(key.secret, "hex")).update(body).digest();
}

/** Signs with the primary key: the headers to send with `body`. */
export function sign(keys: HmacKeys, body: string | Buffer): Record<string, string> {
    return { [KEY_ID_HEADER]: keys.primary.keyId, [SIGNATURE_HEADER]: mac(keys.primary, body).toString("hex") };
}

export type VerifyResult =
    { ok: true; keyId: string } | { ok: false; reason: "missing_signature" | "bad_key_id" | "unknown_key_id" | "bad_signature" };

/** Request headers, as a framework gives them: any case, a repeated header possibly as a list. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One header, its name matched case-insensitively. Undefined when absent;
 * null when the request carries it more than once with different values
 * (under two spellings, or as a list): nothing says which one the sender
 * meant, so the request is refused.
 */
function header(headers: RequestHeaders, name: string): string | undefined | null {
    const values = new Set<string>();
    for (const [k, v] of Object.entries(headers)) {
        if (k.toLowerCase() !== name || v === undefined) continue;
        for (const one of typeof v === "string" ? [v] : v) values.add(one);
    }
    if (values.size > 1) return null;
    return values.values().next().value;
}

/**
 * Verifies a request: the key named by its key ID (primary or secondary),
 * compared in constant time. Header names are read in any case and the MAC
 * in either hex case; a key ID that is not of the safe charset, or a header
 * sent twice with different values, is refused. Refusals are counted in
 * `failures` (the auth_failures counter) with the secret's name and the
 * reason.
 */
export function verify(
    keys: HmacKeys,
    body: string | Buffer,
    headers: RequestHeaders,
    failures?: { counter: AuthFailures; secret: string },
): VerifyResult {
    const result = check(keys, body, header(headers, KEY_ID_HEADER), header(headers, SIGNATURE_HEADER));
    if (!result.ok) failures?.counter.inc(failures.secret, result.reason);
    return result;
}

function check(
    keys: HmacKeys,
    body: string | Buffer,
    keyId: string | undefined | null,
    signature: string | undefined | null,
): VerifyResult {
    if (keyId === "" || keyId === undefined || signature === "" || signature === undefined)
        return { ok: false, reason: "missing_signature" };
    if (keyId === null || !KEY_ID.test(keyId)) return { ok: false, reason: "bad_key_id" };
    const key = [keys.primary, keys.secondary].find((k) => k?.keyId === keyId);
    if (!key) return { ok: false, reason: "unknown_key_id" };
    const expected = mac(key, body);
    const given = signature !== null && MAC_HEX.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad_signature" };
    return { ok: true, keyId };
}
