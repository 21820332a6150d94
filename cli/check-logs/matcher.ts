// The pure matcher: secret values in, a function from one log line to what
// it leaks out. It never returns a value or a piece of the line, only
// names, encodings and columns.

import { ENCODINGS, Encoding, MIN_VALUE_LENGTH, needlesFor } from "./encodings";
import { FieldHit, MASKED, secretFields } from "./fields";

export interface SecretValue {
    /** How reports name it, e.g. `titan-hmac-g2` (never the value). */
    name: string;
    value: string;
}

export interface Leak {
    /** 1-based column, in characters (code points), where the encoded value starts. */
    column: number;
    /** The secret's name; names sharing one value are joined with ",". */
    secret: string;
    encoding: Encoding;
}

export interface LineResult {
    leaks: Leak[];
    /** Secret-looking fields (masked or not). */
    fields: FieldHit[];
    /** The line shows `[MASKED]`. */
    masked: boolean;
}

interface CompiledNeedle {
    text: string;
    secret: string;
    encoding: Encoding;
}

export interface Matcher {
    /** Names of the secrets searched for, sorted. */
    searched: string[];
    /** Names not searched for: values shorter than MIN_VALUE_LENGTH. */
    tooShort: string[];
    scanLine(line: string): LineResult;
}

function columnOf(line: string, index: number): number {
    let column = 1;
    for (let i = 0; i < index; i++) {
        const c = line.charCodeAt(i);
        // A surrogate pair is one character.
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < index) i++;
        column++;
    }
    return column;
}

export function compileMatcher(secrets: readonly SecretValue[]): Matcher {
    // One entry per distinct value: two names for one value are one secret to find.
    const byValue = new Map<string, string[]>();
    for (const s of secrets) {
        const names = byValue.get(s.value) ?? [];
        if (!names.includes(s.name)) names.push(s.name);
        byValue.set(s.value, names);
    }
    const needles: CompiledNeedle[] = [];
    const searched: string[] = [];
    const tooShort: string[] = [];
    for (const [value, names] of byValue) {
        if (value.length < MIN_VALUE_LENGTH) {
            tooShort.push(...names);
            continue;
        }
        searched.push(...names);
        const secret = [...names].sort().join(",");
        for (const n of needlesFor(value)) needles.push({ text: n.text, secret, encoding: n.encoding });
    }
    // Longer needles first, so that where two overlap at one column the more specific one is reported.
    needles.sort((a, b) => b.text.length - a.text.length || ENCODINGS.indexOf(a.encoding) - ENCODINGS.indexOf(b.encoding));

    // A kebab-case field named after a secret (its resource name, with or
    // without -g<N>) names that secret (`titan-redis-password=stable@g1`,
    // `titan-redis-password: not in the ledger`), it does not hold its value.
    // Only kebab-case: `DB_PASSWORD=` stays a field even if a secret is so named.
    const secretNames = new Set(
        secrets
            .flatMap((s) => [s.name, s.name.replace(/-g\d+$/, "")])
            .filter((n) => n.includes("-"))
            .map((n) => n.toLowerCase()),
    );
    const fields = (line: string) => secretFields(line, secretNames);

    // One pass over the line says whether any needle is in it at all (most
    // lines hold none); only then is each needle looked for.
    const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const any = needles.length > 0 ? new RegExp(needles.map((n) => escape(n.text)).join("|")) : undefined;

    function scanLine(line: string): LineResult {
        const leaks: Leak[] = [];
        if (any === undefined || !any.test(line)) return { leaks, fields: fields(line), masked: line.includes(MASKED) };
        const at = new Set<string>();
        for (const n of needles) {
            for (let i = line.indexOf(n.text); i >= 0; i = line.indexOf(n.text, i + 1)) {
                const key = `${n.secret}\u0000${i}`;
                if (at.has(key)) continue;
                at.add(key);
                leaks.push({ column: i, secret: n.secret, encoding: n.encoding });
            }
        }
        leaks.sort((a, b) => a.column - b.column || (a.secret < b.secret ? -1 : a.secret > b.secret ? 1 : 0));
        for (const l of leaks) l.column = columnOf(line, l.column);
        return { leaks, fields: fields(line), masked: line.includes(MASKED) };
    }

    return { searched: searched.sort(), tooShort: tooShort.sort(), scanLine };
}
