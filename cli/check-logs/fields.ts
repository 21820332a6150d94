// Fields that look like they log a secret (`password=...`, `"apiKey": ...`,
// `TITAN_HMAC_SECRET_PRIMARY=...`) and whether they show the runbook's
// `[MASKED]` marker as their value. Pure.

export const MASKED = "[MASKED]";

/** A field name's last word that makes the field a secret (after QUALIFIERS are dropped). */
const SECRET_WORDS = new Set([
    "password",
    "passwd",
    "passphrase",
    "pass",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "authorization",
]);
/** `<word> key` is a secret: apiKey, private_key, SECRET_KEY, hmacKey, ... */
const KEY_WORDS = new Set(["api", "private", "secret", "access", "signing", "hmac", "encryption", "master", "auth", "session", "client"]);
/** Trailing words that name a form of the secret itself: TITAN_HMAC_SECRET_PRIMARY, passwordValue. */
const QUALIFIERS = new Set([
    "primary",
    "secondary",
    "current",
    "previous",
    "old",
    "new",
    "next",
    "value",
    "plain",
    "plaintext",
    "raw",
    "b64",
    "base64",
    "hex",
]);
/** Values that log nothing: an empty or absent value, or the start of a nested object. */
const NOTHING = new Set(["", "null", "undefined", "nil", "none", "true", "false", "{", "["]);

/** Where a secret field's name can be: the words of SECRET_WORDS and KEY_WORDS' "key". */
const HINT = /pass|secret|token|key|credential|authorization/gi;

function isNameChar(c: number): boolean {
    // A-Z a-z 0-9 _ . -
    return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/** A field name's words, lower case: TITAN_HMAC_SECRET_PRIMARY -> titan hmac secret primary; APIKey -> api key. */
export function wordsOf(name: string): string[] {
    return name
        .replace(/^-+/, "")
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
        .split(/[\s_.-]+/)
        .filter(Boolean)
        .map((w) => w.toLowerCase());
}

/**
 * True when a field of this name holds a secret. Names about a secret
 * (DB_PASSWORD_FILE, secretName, TITAN_HMAC_KEY_ID, max_tokens) are not.
 */
export function isSecretFieldName(name: string): boolean {
    const words = wordsOf(name);
    while (words.length > 1 && QUALIFIERS.has(words[words.length - 1])) words.pop();
    const last = words[words.length - 1];
    if (last === undefined) return false;
    if (SECRET_WORDS.has(last)) return true;
    return last === "key" && words.length > 1 && KEY_WORDS.has(words[words.length - 2]);
}

// Logs repeat the same few field names: remember the answer (bounded).
const known = new Map<string, boolean>();
function isSecretName(name: string): boolean {
    let yes = known.get(name);
    if (yes === undefined) {
        yes = isSecretFieldName(name);
        if (known.size >= 10_000) known.clear();
        known.set(name, yes);
    }
    return yes;
}

export interface FieldHit {
    /** The field's name as logged (never its value). */
    field: string;
    masked: boolean;
}

/** The value after the separator: a quoted string, or a token up to a space or delimiter. */
function valueAt(line: string, start: number): string {
    const q = line[start];
    if (q === '"' || q === "'") {
        const end = line.indexOf(q, start + 1);
        return line.slice(start + 1, end < 0 ? undefined : end);
    }
    if (line.startsWith(MASKED, start)) return MASKED;
    if (q === "{" || q === "[") return q;
    const m = /^[^\s,;&)}\]]*/.exec(line.slice(start));
    return m ? m[0] : "";
}

function isMasked(value: string): boolean {
    // `Authorization: Bearer [MASKED]` keeps its scheme.
    return value.replace(/^(?:bearer|basic|token|digest)\s+/i, "").startsWith(MASKED);
}

/**
 * Every secret-looking field of one line, masked or not: a name holding a
 * hint word, optionally quoted, then `=` or `:` (not `==`, `::` or `://`).
 * Not a field: a segment of a type token or path (`random:index/randomPassword:RandomPassword`,
 * `titan-secrets:password:Credential`: the name follows `:` or `/`), and a
 * name in `ignore` (lower case; the names of the secrets themselves, as in
 * `titan-redis-password=stable@g1`).
 */
export function secretFields(line: string, ignore?: ReadonlySet<string>): FieldHit[] {
    const hits: FieldHit[] = [];
    HINT.lastIndex = 0;
    for (let m = HINT.exec(line); m !== null; m = HINT.exec(line)) {
        // The whole name around the hint word.
        let start = m.index;
        while (start > 0 && isNameChar(line.charCodeAt(start - 1))) start--;
        let end = m.index + m[0].length;
        while (end < line.length && isNameChar(line.charCodeAt(end))) end++;
        HINT.lastIndex = end;
        const name = line.slice(start, end).replace(/^-+/, "");
        const before = line[start - 1];
        if (before === ":" || before === "/") continue;
        let j = end;
        const quote = before;
        if ((quote === '"' || quote === "'") && line[j] === quote) j++;
        while (line[j] === " " || line[j] === "\t") j++;
        if (line[j] !== "=" && line[j] !== ":") continue;
        if (line[j + 1] === "=" || line[j + 1] === ":" || line[j + 1] === "/") continue;
        j++;
        while (line[j] === " " || line[j] === "\t") j++;
        if (name === "" || !isSecretName(name) || ignore?.has(name.toLowerCase())) continue;
        let value = valueAt(line, j);
        // An unquoted `Bearer xyz`: the scheme alone says nothing.
        if (/^(?:bearer|basic|token|digest)$/i.test(value)) {
            const rest = line.slice(j + value.length).replace(/^[ \t]+/, "");
            value = `${value} ${valueAt(rest, 0)}`;
        }
        if (NOTHING.has(value.trim().toLowerCase())) continue;
        hits.push({ field: name, masked: isMasked(value) });
    }
    return hits;
}
