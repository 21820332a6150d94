// The consumer side of an HMAC secret. Presenters sign with the primary key
// and send its key ID; verifiers pick the key by that ID among the primary
// and the secondary they hold, and refuse any other ID. That is what makes
// a rotation free of failures: in `overlap` a verifier holds the new key as
// primary and the old as secondary, so it accepts both while the presenters
// move, whatever order their pods restart in.

import { createHmac, timingSafeEqual } from "node:crypto";
import { AuthFailures } from "./metrics";

/** The headers a signed request carries. */
export const KEY_ID_HEADER = "x-titan-key-id";
export const SIGNATURE_HEADER = "x-titan-signature";

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
        return { keyId, secret };
    };
    const primary = key("SECRET_PRIMARY", "KEY_ID");
    if (!primary) throw new HmacConfigError(`${prefix}_SECRET_PRIMARY and ${prefix}_KEY_ID are not set`);
    const secondary = key("SECRET_SECONDARY", "KEY_ID_SECONDARY");
    if (secondary?.keyId === primary.keyId)
        throw new HmacConfigError(`${prefix}_KEY_ID_SECONDARY equals ${prefix}_KEY_ID: a key ID names one key`);
    return secondary ? { primary, secondary } : { primary };
}

function mac(key: HmacKey, body: string | Buffer): Buffer {
    return createHmac("sha256", Buffer.from(key.secret, "hex")).update(body).digest();
}

/** Signs with the primary key: the headers to send with `body`. */
export function sign(keys: HmacKeys, body: string | Buffer): Record<string, string> {
    return { [KEY_ID_HEADER]: keys.primary.keyId, [SIGNATURE_HEADER]: mac(keys.primary, body).toString("hex") };
}

export type VerifyResult = { ok: true; keyId: string } | { ok: false; reason: "missing_signature" | "unknown_key_id" | "bad_signature" };

/**
 * Verifies a request: the key named by its key ID (primary or secondary),
 * compared in constant time. Refusals are counted in `failures` (the
 * auth_failures counter) with the secret's name and the reason.
 */
export function verify(
    keys: HmacKeys,
    body: string | Buffer,
    headers: Record<string, string | undefined>,
    failures?: { counter: AuthFailures; secret: string },
): VerifyResult {
    const result = check(keys, body, headers[KEY_ID_HEADER], headers[SIGNATURE_HEADER]);
    if (!result.ok) failures?.counter.inc(failures.secret, result.reason);
    return result;
}

function check(keys: HmacKeys, body: string | Buffer, keyId: string | undefined, signature: string | undefined): VerifyResult {
    if (!keyId || !signature) return { ok: false, reason: "missing_signature" };
    const key = [keys.primary, keys.secondary].find((k) => k?.keyId === keyId);
    if (!key) return { ok: false, reason: "unknown_key_id" };
    const expected = mac(key, body);
    const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad_signature" };
    return { ok: true, keyId };
}
