// Pulumi.<stack>.yaml as the rotate command reads and edits it. Edits go
// through yaml's Document API (parseDocument, setIn/deleteIn, toString), which
// keeps every comment and every untouched line as it was; a file that does
// not survive that round trip byte for byte is never rewritten.

import { readFileSync } from "node:fs";
import { Document, Scalar, isMap, isScalar, parseDocument } from "yaml";
import { ExchangeKeyPresence, PROJECT, RawConfig, presenceInStackFile, rawConfigFrom } from "../../model";

export interface StackFile {
    path: string;
    text: string;
    doc: Document;
}

/** A change to one key of one secret: a value to set, or undefined to remove the key. */
export interface SecretEdit {
    secret: string;
    key: string;
    value: string | number | boolean | undefined;
}

export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

export function parseStackFile(path: string, text: string): StackFile {
    const doc = parseDocument(text, { keepSourceTokens: false });
    if (doc.errors.length > 0) {
        // yaml's own message quotes the offending line, which may be a value
        // (an exchange key pasted in plain text): say where and what kind only.
        const e = doc.errors[0];
        const at = e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
        throw new StackFileError(
            `${path} is not valid YAML${at} (${e.code.toLowerCase().replace(/_/g, " ")}); fix it in an editor (its text is not shown here)`,
        );
    }
    if (!isMap(doc.contents)) throw new StackFileError(`${path}: expected a map with a "config" key at the top level`);
    return { path, text, doc };
}

export function readStackFile(path: string): StackFile {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (e) {
        throw new StackFileError(`cannot read ${path}: ${(e as Error).message}`);
    }
    return parseStackFile(path, text);
}

/** The file would change beyond the edited keys: nothing is written. */
export class LayoutError extends StackFileError {}

/**
 * The program's config from the file: every `titan-secrets:<key>` as
 * `<key>` (what the program reads with pulumi.Config("titan-secrets")).
 */
export function rawConfigOf(file: StackFile): RawConfig {
    return rawConfigFrom((file.doc.toJS() as { config?: Record<string, unknown> } | null)?.config ?? {});
}

/** The exchange keys the file holds (which fields, whether secure), read without decrypting anything. */
export function exchangeKeysOf(file: StackFile): ExchangeKeyPresence {
    const config = (file.doc.toJS() as { config?: Record<string, unknown> } | null)?.config ?? {};
    return presenceInStackFile(config[`${PROJECT}:exchangeKeys`]);
}

/** Path of a secret's key in the document. */
export function secretKeyPath(secret: string, key: string): string[] {
    return ["config", `${PROJECT}:secrets`, secret, key];
}

/** The value written in the file for a secret's key, or undefined. */
export function secretValue(file: StackFile, secret: string, key: string): unknown {
    const v = file.doc.getIn(secretKeyPath(secret, key));
    return v !== null && typeof v === "object" && "toJSON" in v ? (v as { toJSON(): unknown }).toJSON() : v;
}

/**
 * Applies the edits and returns the new text, changing nothing else.
 *
 * A file that reads back byte for byte through the Document API (the
 * committed stack files) is edited with it: setIn/deleteIn, toString. Other
 * layouts (e.g. the unindented lists `pulumi config set` writes) would be
 * re-indented by toString, so there each edit replaces, inserts or removes
 * only the bytes of its own key, at the positions the parsed document
 * gives. Either way the result must parse to exactly the edited config, or
 * nothing is written (LayoutError).
 */
export function applyEdits(file: StackFile, edits: SecretEdit[]): string {
    const doc = parseDocument(file.text);
    for (const e of edits) {
        const path = secretKeyPath(e.secret, e.key);
        if (e.value === undefined) {
            if (doc.hasIn(path)) doc.deleteIn(path);
        } else {
            doc.setIn(path, e.value);
        }
    }
    const roundTrips = parseDocument(file.text).toString() === file.text;
    const text = roundTrips ? doc.toString() : editInPlace(file.text, edits);
    if (text === undefined || !sameData(parseDocument(text).toJS(), doc.toJS())) {
        throw new LayoutError(
            `${file.path}: the edit cannot be made without changing other lines (unusual layout); make it by hand: ${edits.map(describeEdit).join(", ")}`,
        );
    }
    return text;
}

function describeEdit(e: SecretEdit): string {
    return e.value === undefined ? `remove secrets.${e.secret}.${e.key}` : `set secrets.${e.secret}.${e.key} to ${JSON.stringify(e.value)}`;
}

function sameData(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

const lineStart = (text: string, at: number) => text.lastIndexOf("\n", at - 1) + 1;
/** Index just past the end of the line holding position `at` (a node ending with its newline ends there). */
const lineEnd = (text: string, at: number) => {
    if (at > 0 && text[at - 1] === "\n") return at;
    const nl = text.indexOf("\n", at);
    return nl < 0 ? text.length : nl + 1;
};

const PLAIN = /^[A-Za-z_][A-Za-z0-9._/-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

/** A scalar as YAML text, in the quoting style of the node it replaces. */
function scalarText(value: string | number | boolean, like?: Scalar): string {
    if (typeof value !== "string") return String(value);
    if (like?.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
    if (like?.type === Scalar.QUOTE_DOUBLE || !PLAIN.test(value) || RESERVED.test(value)) return JSON.stringify(value);
    return value;
}

/** The edits as byte-range changes of the original text; undefined where that is not possible. */
function editInPlace(original: string, edits: SecretEdit[]): string | undefined {
    let text = original;
    for (const e of edits) {
        const doc = parseDocument(text);
        const map = doc.getIn(["config", `${PROJECT}:secrets`, e.secret], true);
        if (!isMap(map) || map.flow) return undefined;
        const pair = map.items.find((p) => isScalar(p.key) && p.key.value === e.key);
        const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (e.value === undefined) {
            if (!pair) continue;
            if (!keyRange || !isScalar(pair.value) || !pair.value.range) return undefined;
            text = text.slice(0, lineStart(text, keyRange[0])) + text.slice(lineEnd(text, pair.value.range[1]));
        } else if (pair) {
            if (!isScalar(pair.value) || !pair.value.range) return undefined;
            const [start, end] = pair.value.range;
            text = text.slice(0, start) + scalarText(e.value, pair.value) + text.slice(end);
        } else {
            const first = map.items[0]?.key;
            const last = map.items[map.items.length - 1];
            const lastNode = (last?.value ?? last?.key) as { range?: [number, number, number] } | undefined;
            if (!isScalar(first) || !first.range || !lastNode?.range) return undefined;
            const indent = first.range[0] - lineStart(text, first.range[0]);
            const at = lineEnd(text, lastNode.range[1]);
            const before = text.slice(0, at) + (at === text.length && !text.endsWith("\n") ? "\n" : "");
            text = before + `${" ".repeat(indent)}${e.key}: ${scalarText(e.value)}\n` + text.slice(at);
        }
    }
    return text;
}
