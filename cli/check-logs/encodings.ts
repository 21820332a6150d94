// The forms a secret value can take in a log line, as search strings
// ("needles"). Pure: a value in, its needles out.
//
// Base64 is matched by its core: the characters that depend only on the
// value's own bytes, at each of the three alignments the value can have
// inside a longer encoded string (e.g. `Authorization: Basic
// base64("titan:" + password)`). The core of alignment 0 is a prefix of the
// value's own encoding, so padded and unpadded forms both match it, at the
// column where the encoding starts.
//
// What the log text can be normalised into (split lines, JSON, HTML and
// percent escapes, hex bytes with separators, invisible characters) is not
// a needle: canonical.ts normalises each log window once, and the needles
// here are what no normalisation can undo (base64, hex of the value's
// bytes). Every needle is in canonical form (canonicalNeedle: no whitespace
// or invisible characters), as the text it is searched in.

import { canonicalNeedle, decodedNeedle } from "./canonical";

/** Values shorter than this are not searched for: too many false positives. */
export const MIN_VALUE_LENGTH = 8;

export type Encoding = "raw" | "json" | "url" | "form" | "base64" | "base64url" | "hex" | "hex-bytes-base64" | "hex-bytes-base64url";

/** Every encoding, in the order a match is attributed when two give the same string. */
export const ENCODINGS: readonly Encoding[] = [
    "raw",
    "json",
    "url",
    "form",
    "base64",
    "base64url",
    "hex",
    "hex-bytes-base64",
    "hex-bytes-base64url",
];

export interface Needle {
    text: string;
    encoding: Encoding;
}

/** True when the value is an even-length string of hex digits (e.g. `openssl rand -hex 32`). */
export function isHexValue(value: string): boolean {
    return value.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(value);
}

/**
 * The base64 characters that depend only on `bytes`, when they start `offset`
 * bytes (0, 1 or 2) into a longer encoded buffer: standard alphabet.
 */
export function base64Core(bytes: Buffer, offset: 0 | 1 | 2): string {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    return encoded.slice(first, end);
}

export function toBase64Url(base64: string): string {
    return base64.replace(/\+/g, "-").replace(/\//g, "_");
}

function base64Needles(bytes: Buffer, std: Encoding, url: Encoding): Needle[] {
    const out: Needle[] = [];
    for (const offset of [0, 1, 2] as const) {
        const core = base64Core(bytes, offset);
        out.push({ text: core, encoding: std });
        const urlCore = toBase64Url(core);
        if (urlCore !== core) out.push({ text: urlCore, encoding: url });
    }
    return out;
}

/**
 * Every needle of one value, without duplicates (the first encoding in
 * ENCODINGS order keeps a string that two encodings share). Empty for a
 * value shorter than MIN_VALUE_LENGTH.
 */
export function needlesFor(value: string): Needle[] {
    if (value.length < MIN_VALUE_LENGTH) return [];
    const bytes = Buffer.from(value, "utf8");
    const hex = bytes.toString("hex");
    const candidates: Needle[] = [
        { text: value, encoding: "raw" },
        // A hex key is the same key in upper case.
        ...(isHexValue(value)
            ? [
                  { text: value.toUpperCase(), encoding: "raw" as const },
                  { text: value.toLowerCase(), encoding: "raw" as const },
              ]
            : []),
        // A value holding escape-like text (`%3D`, `&amp;`) as the decoded log text holds it.
        { text: decodedNeedle(value), encoding: "raw" },
        { text: JSON.stringify(value).slice(1, -1), encoding: "json" },
        { text: encodeURIComponent(value), encoding: "url" },
        // Form encoding's `+` for a space (its percent-escapes are decoded in the log text).
        ...(value.includes(" ") ? [{ text: decodedNeedle(value).replace(/ /g, "+"), encoding: "form" as const }] : []),
        ...base64Needles(bytes, "base64", "base64url"),
        { text: hex, encoding: "hex" },
        { text: hex.toUpperCase(), encoding: "hex" },
        ...(isHexValue(value) ? base64Needles(Buffer.from(value, "hex"), "hex-bytes-base64", "hex-bytes-base64url") : []),
        // A value with line breaks (a PEM key) is logged over several lines:
        // each of its lines, raw (not PEM armour lines, which are public).
        ...value
            .split(/\r?\n/)
            .filter((text) => !/^-----(?:BEGIN|END) /.test(text))
            .map((text) => ({ text, encoding: "raw" as const })),
    ];
    const seen = new Set<string>();
    const out: Needle[] = [];
    for (const candidate of candidates) {
        const n = { text: canonicalNeedle(candidate.text), encoding: candidate.encoding };
        // A core can be short for a short hex value (4 bytes give 4 to 5
        // characters); such a needle would match noise.
        if (n.text.length < MIN_VALUE_LENGTH || seen.has(n.text)) continue;
        seen.add(n.text);
        out.push(n);
    }
    return out;
}
