// The pure matcher: secret values in, a function from log text to what it
// leaks out. It never returns a value or a piece of the text, only names,
// encodings and positions. The text is searched in each of its canonical
// forms (canonical.ts), so a value split across lines, escaped, encoded or
// interleaved with invisible characters is found where it starts.

import { canonicalForms } from "./canonical";
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
    /** The needle's encoding, after the form it was found in (`url`, `json+base64`, `hex-separated`). */
    encoding: string;
}

/** A leak in a text of several lines: `index` is where it starts in that text. */
export interface Found {
    index: number;
    secret: string;
    encoding: string;
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
    /**
     * How much log text a reader must carry from one window into the next so
     * that a value straddling the boundary is found: the longest needle,
     * times the longest escape of one character plus what can sit between
     * two (an ANSI colour sequence).
     */
    overlapChars: number;
    /** Every leak in a text (any number of lines), in order of position. */
    find(text: string): Found[];
    /** The secret-looking fields of one line. */
    fields(line: string): FieldHit[];
    /** One line: its leaks with columns, its fields, its [MASKED] marker. */
    scanLine(line: string): LineResult;
}

/** Characters of log text one needle character can take: `\u002F` (6) plus an ANSI sequence such as `\x1b[38;5;9m` (10). */
export const EXPANSION = 16;

/** 1-based column of `index` in `line`, in code points (a surrogate pair is one character). */
export function columnOf(line: string, index: number): number {
    let column = 1;
    for (let i = 0; i < index; i++) {
        const c = line.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < index) i++;
        column++;
    }
    return column;
}

/** How a finding names its encoding: the needle's, after the decodings or the form the text needed. */
function label(prefix: string, encoding: Encoding): string {
    if (prefix === "") return encoding;
    return encoding === "raw" ? prefix : `${prefix}+${encoding}`;
}

interface NeedleSet {
    needles: CompiledNeedle[];
    /** One pass says whether any needle is in a text at all (most texts hold none). */
    any?: RegExp;
}

const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** An alternation of strings as a trie (`ab(?:c|d)`): irregexp tries far fewer branches at each position. */
function trie(words: readonly string[]): string {
    const byFirst = new Map<string, string[]>();
    for (const w of words) byFirst.set(w[0], [...(byFirst.get(w[0]) ?? []), w.slice(1)]);
    return [...byFirst]
        .map(([c, rests]) => {
            // A word that ends here matches already: its longer siblings need not be tried.
            if (rests.includes("")) return escape(c);
            return escape(c) + (rests.length === 1 ? escape(rests[0]) : `(?:${trie(rests)})`);
        })
        .join("|");
}

function needleSet(needles: CompiledNeedle[]): NeedleSet {
    return { needles, any: needles.length > 0 ? new RegExp(trie(needles.map((n) => n.text))) : undefined };
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
    const all = needleSet(needles);
    // Joined hex bytes: the needles that are hex only (each in both cases already).
    const hex = needleSet(needles.filter((n) => /^[0-9a-fA-F]+$/.test(n.text)));
    const longest = needles.reduce((n, x) => Math.max(n, x.text.length), 0);

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

    function find(text: string): Found[] {
        const found = new Map<string, Found>();
        for (const form of canonicalForms(text)) {
            const bytes = form.name === "hex-separated" || form.name === "decimal-bytes";
            const set = bytes ? hex : all;
            if (set.any === undefined || !set.any.test(form.text)) continue;
            for (const n of set.needles) {
                for (let i = form.text.indexOf(n.text); i >= 0; i = form.text.indexOf(n.text, i + 1)) {
                    const at = form.source(i, n.text.length);
                    const key = `${n.secret}\u0000${at.index}`;
                    if (found.has(key)) continue;
                    const prefix = bytes ? form.name : at.decodings.join("+");
                    found.set(key, { index: at.index, secret: n.secret, encoding: label(prefix, n.encoding) });
                }
            }
        }
        return [...found.values()].sort((a, b) => a.index - b.index || (a.secret < b.secret ? -1 : a.secret > b.secret ? 1 : 0));
    }

    function scanLine(line: string): LineResult {
        const leaks = find(line).map((f) => ({ column: columnOf(line, f.index), secret: f.secret, encoding: f.encoding }));
        return { leaks, fields: fields(line), masked: line.includes(MASKED) };
    }

    return {
        searched: searched.sort(),
        tooShort: tooShort.sort(),
        overlapChars: longest * EXPANSION,
        find,
        fields,
        scanLine,
    };
}
