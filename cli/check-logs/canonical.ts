// Canonical forms of log text: each window of a log is normalised once into
// the forms a secret value can hide in, and the needles are searched in
// each. Pure. A form is a chain of transforms, each a global regex whose
// every match is replaced by what it decodes to; an index in a form maps
// back to the log text (built only when a form holds a hit: hits are rare).
//
//   plain          without what a reader does not see or what wrapping
//                  adds: line breaks with the indentation around them (a
//                  value wrapped at a width, or split by CRLF; with a
//                  container runtime's prefix or record boundary), control
//                  characters (NUL padding; UTF-16 read as bytes), ANSI
//                  escape sequences, zero-width characters, soft hyphens;
//   decoded        plain, then JSON string escapes (`\/`, `\u002F`, `\n`),
//                  then HTML character references (`&#x2F;`, `&#47;`,
//                  `&amp;`), then percent-escapes in either case (`%2f`):
//                  one encoding or one inside another. A decoded line
//                  break or invisible character is dropped, as in plain;
//   hex-separated  plain without the separators and prefixes of hex bytes
//                  (`3f:9a`, `3F-9A`, `3f 9a`, `0x3f,0x9a`, `\x3f`, `%3f`):
//                  searched for the needles that are hex only;
//   decimal-bytes  plain with runs of decimal bytes (`[63, 154, 28, ...]`,
//                  Rust's and Go's debug print of a byte array) as hex: the
//                  same needles.
// Form encoding's `+` for a space is a needle (encodings.ts): a `+` in a log
// is far more often a plus.

export interface Transform {
    /** For a finding's encoding: the decoding this transform does, if any. */
    name?: string;
    /** Global; every match is replaced by decode(match). */
    re: RegExp;
    /** What a match becomes; absent: nothing (removed). */
    decode?: (match: string) => string;
    /** The transform runs only on a text holding this (a cheap test first). */
    when?: RegExp;
}

/** Characters a reader does not see: controls (not tab), C1, soft hyphen, zero-width and direction marks, BOM. */
const INVISIBLE = "\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u00ad\\u180e\\u200b-\\u200f\\u2028\\u2029\\u2060-\\u2064\\ufeff";
const ANSI = "\\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\\x07\\x1b]*(?:\\x07|\\x1b\\\\)?|[@-_])";

/**
 * What the container runtimes put between two pieces of one long line, so
 * that the pieces join: the next line's CRI prefix (`<time> stdout P `, the
 * kubelet's files for lines past 16 KiB), `kubectl logs --prefix`'s
 * `[pod/<pod>/<container>] `, and Docker json-file's record boundary
 * (`","stream":"stdout","time":"..."}` newline `{"log":"`).
 */
const CRI_PREFIX = "\\d{4}-\\d\\d-\\d\\dT\\S+ (?:stdout|stderr) [PF] ";
const KUBECTL_PREFIX = "\\[pod/[^\\]\\s]+\\] ";
const DOCKER_BOUNDARY = '",\\s*"stream":\\s*"(?:stdout|stderr)",\\s*"time":\\s*"[^"\\n]*"\\s*\\}[ \\t]*\\r?\\n[ \\t]*\\{\\s*"log":\\s*"';
const LINE_BREAK = `[ \\t]*[\\n\\r]+(?:${CRI_PREFIX}|${KUBECTL_PREFIX})?[ \\t]*|${DOCKER_BOUNDARY}`;

/** What `plain` removes: ANSI escape sequences, line breaks with their indentation (and a runtime's prefix), invisible characters. */
export const STRIP: Transform = { re: new RegExp(`${ANSI}|${LINE_BREAK}|[${INVISIBLE}]+`, "g") };
/** After decoding: only an ANSI sequence whose ESC was escaped is left to remove. */
const STRIP_DECODED: Transform = { ...STRIP, when: /\x1b/ };

const DROPPED = new RegExp(`^[\\n\\r${INVISIBLE}]$`);
/** A decoded character: dropped when plain drops it (ESC is kept: STRIP_DECODED removes its whole sequence). */
const kept = (c: string) => (c !== "\x1b" && DROPPED.test(c) ? "" : c);

const JSON_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export const JSON_UNESCAPE: Transform = {
    name: "json",
    re: /\\(?:u[0-9a-fA-F]{4}|["\\/bfnrt])/g,
    when: /\\/,
    // A surrogate pair is two escapes; each gives its half and the halves meet in the string.
    decode: (m) => kept(m[1] === "u" ? String.fromCharCode(parseInt(m.slice(2), 16)) : JSON_ESCAPES[m[1]]),
};
/** Named references of the characters a generated password or key can hold (and the invisible ones). */
const ENTITIES: Record<string, string> = {
    amp: "&",
    AMP: "&",
    lt: "<",
    LT: "<",
    gt: ">",
    GT: ">",
    quot: '"',
    QUOT: '"',
    apos: "'",
    nbsp: " ",
    shy: "",
    ZeroWidthSpace: "",
    NewLine: "\n",
    Tab: "\t",
    sol: "/",
    bsol: "\\",
    excl: "!",
    num: "#",
    dollar: "$",
    percnt: "%",
    lpar: "(",
    rpar: ")",
    ast: "*",
    midast: "*",
    plus: "+",
    comma: ",",
    period: ".",
    colon: ":",
    semi: ";",
    equals: "=",
    quest: "?",
    commat: "@",
    lsqb: "[",
    lbrack: "[",
    rsqb: "]",
    rbrack: "]",
    Hat: "^",
    lowbar: "_",
    grave: "`",
    DiacriticalGrave: "`",
    lcub: "{",
    lbrace: "{",
    verbar: "|",
    vert: "|",
    VerticalLine: "|",
    rcub: "}",
    rbrace: "}",
};

export const HTML_UNESCAPE: Transform = {
    name: "html",
    when: /&/,
    re: /&(?:#[xX][0-9a-fA-F]+;?|#[0-9]+;?|[A-Za-z][A-Za-z0-9]*;)/g,
    decode(m) {
        if (m[1] !== "#") return kept(ENTITIES[m.slice(1, -1)] ?? m);
        const hex = m[2] === "x" || m[2] === "X";
        const code = parseInt(m.slice(hex ? 3 : 2).replace(/;$/, ""), hex ? 16 : 10);
        return code <= 0x10ffff ? kept(String.fromCodePoint(code)) : m;
    },
};

/** One character's percent-escapes: an ASCII byte, or the two to four bytes of one UTF-8 sequence. */
const PERCENT =
    "%(?:[0-7][0-9a-fA-F]|[cdCD][0-9a-fA-F]%[89abAB][0-9a-fA-F]|[eE][0-9a-fA-F](?:%[89abAB][0-9a-fA-F]){2}|[fF][0-4](?:%[89abAB][0-9a-fA-F]){3})";

function percentDecode(m: string): string {
    try {
        return kept(decodeURIComponent(m));
    } catch {
        return m; // an overlong or surrogate sequence: left as it is
    }
}

export const URL_UNESCAPE: Transform = { name: "url", re: new RegExp(PERCENT, "g"), when: /%/, decode: percentDecode };

/** Separators and prefixes of hex bytes, anywhere (only hex needles are searched in what is left). */
export const HEX_JOIN: Transform = {
    re: /[:,; -]|0[xX]|\\x|%/g,
    // Four hex bytes in a row, each after a separator or a prefix.
    when: /(?:[0-9a-fA-F]{2}(?:[:,; -]|0[xX]|\\x|%)+){3}[0-9a-fA-F]{2}/,
};

/** A decimal byte (0 to 255). */
const BYTE = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/**
 * Bytes printed as decimal numbers, eight or more in a row (Rust's and Go's
 * debug print of a byte array: `[63, 154, 28, ...]`, `[63 154 28 ...]`): as hex.
 */
export const DECIMAL_BYTES: Transform = {
    re: new RegExp(`(?<![0-9.])${BYTE}(?:, ?| )(?:${BYTE}(?:, ?| )){6,}${BYTE}(?![0-9.])`, "g"),
    when: /[0-9](?:, ?| )[0-9]{1,3}(?:, ?| )[0-9]{1,3}(?:, ?| )[0-9]{1,3}(?:, ?| )[0-9]/,
    decode: (m) =>
        m
            .split(/, ?| /)
            .map((n) => Number(n).toString(16).padStart(2, "0"))
            .join(""),
};

export type FormName = "plain" | "decoded" | "hex-separated" | "decimal-bytes";

/** What `decoded` decodes, in order: an escape inside another is decoded from the outside in. */
const DECODINGS: readonly Transform[] = [JSON_UNESCAPE, HTML_UNESCAPE, URL_UNESCAPE];

/** The forms, in the order a match found in two of them is attributed (plain first). */
export const FORMS: ReadonlyArray<{ name: FormName; chain: readonly Transform[] }> = [
    { name: "plain", chain: [STRIP] },
    { name: "decoded", chain: [STRIP, ...DECODINGS, STRIP_DECODED] },
    { name: "hex-separated", chain: [STRIP, HEX_JOIN] },
    { name: "decimal-bytes", chain: [STRIP, DECIMAL_BYTES] },
];

/** A needle's text as canonical text holds it: what `plain` removes, removed. */
export function canonicalNeedle(text: string): string {
    return text.replace(STRIP.re, "");
}

/**
 * A needle as the `decoded` form turns it: a value that holds what looks
 * like an escape (`%3D`, `&q;`) is decoded with the log text around it, so
 * it is searched for decoded too.
 */
export function decodedNeedle(text: string): string {
    let out = text;
    for (const t of DECODINGS) out = run(t, out)?.output ?? out;
    return out;
}

export interface Form {
    name: FormName;
    text: string;
    /**
     * Where a match of `length` characters at `index` of this form starts in
     * the original text, and the decodings that changed characters inside it
     * (e.g. ["json"]; empty when it was only stripped).
     */
    source(index: number, length: number): { index: number; decodings: string[] };
}

interface Stage {
    input: string;
    transform: Transform;
    output: string;
}

/** Applies a transform; undefined when it changed nothing. */
function run(t: Transform, input: string): Stage | undefined {
    if (t.when && !t.when.test(input)) return undefined;
    const decode = t.decode;
    if (decode === undefined) {
        const output = input.replace(t.re, "");
        return output.length === input.length ? undefined : { input, transform: t, output };
    }
    let changed = false;
    const output = input.replace(t.re, (m) => {
        const d = decode(m);
        if (d !== m) changed = true;
        return d;
    });
    return changed ? { input, transform: t, output } : undefined;
}

/**
 * For each index of a stage's output, the index in its input it came from;
 * and which output characters a replacement made (1) or follow a removal (2).
 */
function indexMap(s: Stage): { map: Int32Array; made: Uint8Array } {
    const map = new Int32Array(s.output.length + 1);
    const made = new Uint8Array(s.output.length + 1);
    const re = new RegExp(s.transform.re.source, s.transform.re.flags);
    let inPos = 0;
    let outPos = 0;
    for (let m = re.exec(s.input); m !== null; m = re.exec(s.input)) {
        for (; inPos < m.index; inPos++) map[outPos++] = inPos;
        const decoded = s.transform.decode ? s.transform.decode(m[0]) : "";
        if (decoded === "") made[outPos] |= 2;
        for (let k = 0; k < decoded.length; k++) {
            made[outPos] |= 1;
            map[outPos++] = m.index;
        }
        inPos = m.index + m[0].length;
        if (m[0].length === 0) re.lastIndex++;
    }
    for (; inPos < s.input.length; inPos++) map[outPos++] = inPos;
    map[outPos] = inPos;
    return { map, made };
}

/**
 * The canonical forms of `text` that differ from one another: a form whose
 * decodings change nothing is plain again, and is not searched twice. Lazy:
 * a form is computed when the caller gets to it.
 */
export function* canonicalForms(text: string): Generator<Form> {
    // Every chain starts with STRIP: computed once.
    const stripped = run(STRIP, text);
    const seen = new Set<string>();
    for (const { name, chain } of FORMS) {
        const stages: Stage[] = stripped ? [stripped] : [];
        let current = stripped ? stripped.output : text;
        for (const t of chain.slice(1)) {
            const stage = run(t, current);
            if (stage) {
                stages.push(stage);
                current = stage.output;
            }
        }
        if (seen.has(current)) continue;
        seen.add(current);
        let maps: Array<{ map: Int32Array; made: Uint8Array }> | undefined;
        yield {
            name,
            text: current,
            source(index: number, length: number) {
                maps ??= stages.map(indexMap);
                let start = index;
                let end = index + length;
                const decodings: string[] = [];
                for (let k = stages.length - 1; k >= 0; k--) {
                    const { map, made } = maps[k];
                    const decoding = stages[k].transform.name;
                    if (decoding !== undefined) {
                        let touched = (made[start] & 1) !== 0;
                        for (let i = start + 1; i < end && !touched; i++) touched = made[i] !== 0;
                        if (touched) decodings.unshift(decoding);
                    }
                    const last = map[Math.max(start, end - 1)];
                    start = map[start];
                    end = last + 1;
                }
                return { index: start, decodings };
            },
        };
    }
}
