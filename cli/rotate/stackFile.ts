// Pulumi.<stack>.yaml as the rotate command reads and edits it. It is read
// as Pulumi reads it (go-yaml: aliases resolved, `<<` merge keys merged),
// with alias expansion capped. Edits go through yaml's Document API
// (parseDocument, setIn/deleteIn, toString), which keeps every comment and
// every untouched line as it was; a file that does not survive that round
// trip byte for byte is edited by byte ranges instead. Either way an edit
// refuses values shared through anchors/aliases or merge keys
// (editGuards.ts), and the edited file must parse to the original data with
// exactly the edits applied, or nothing is written.

import { readFileSync } from "node:fs";
import { Document, Scalar, isMap, isScalar, parseDocument } from "yaml";
import { ExchangeKeyPresence, PROJECT, RawConfig, presenceInStackFile, rawConfigFrom } from "../../model";
import { SecretEdit, dataChanges, editProblem, encodingProblem, sameData, secretKeyPath, withEdits } from "./editGuards";

export type { SecretEdit };
export { secretKeyPath };

/** `<<` merges as go-yaml (Pulumi's reader) merges it; duplicate keys are errors. */
const PARSE_OPTIONS = { merge: true, uniqueKeys: true } as const;

/**
 * The most alias expansions a file may take (yaml's count: uses of an
 * anchor times the aliases inside it). A stack file needs a handful; an
 * alias bomb (nested anchors, each used many times) reaches this in a few
 * lines, and is refused before it takes the memory.
 */
export const MAX_ALIAS_COUNT = 100;

export interface StackFile {
    path: string;
    text: string;
    doc: Document;
    /** The file's data as Pulumi reads it (aliases and merge keys resolved). */
    data: Record<string, unknown>;
}

export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

/** The data of a parsed file; an alias bomb, an alias without its anchor or a bad merge is a StackFileError. */
function dataOf(path: string, doc: Document): Record<string, unknown> {
    try {
        return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
    } catch (e) {
        const message = e instanceof Error ? e.message : "";
        if (/^Excessive alias count/.test(message))
            throw new StackFileError(
                `${path}: its YAML aliases expand past ${MAX_ALIAS_COUNT} copies (anchors used many times inside other anchors: an alias bomb?); write the values out instead of *aliases`,
            );
        const unresolved = /^Unresolved alias \(the anchor must be set before the alias\): (.*)$/.exec(message);
        if (unresolved)
            throw new StackFileError(
                `${path}: the alias *${unresolved[1]} has no anchor &${unresolved[1]} before it; define the anchor first or write the value out`,
            );
        if (/^Merge sources must be/.test(message))
            throw new StackFileError(
                `${path}: a YAML merge key (<<) merges something that is not a map; merge only maps, or write the keys out`,
            );
        throw new StackFileError(
            `${path}: its YAML cannot be resolved to data (${e instanceof Error ? e.name : "error"}); fix it in an editor`,
        );
    }
}

/** What a value is, in words, without the value (it may be a key pasted in the wrong place). */
function kindOfValue(v: unknown): string {
    if (v === null || v === undefined) return "nothing";
    if (Array.isArray(v)) return "a list";
    if (typeof v !== "object") return `a ${typeof v}`;
    // A tag (!!binary, !!set, !!omap) reads as an object that is no map of keys.
    const proto: unknown = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null ? "a map" : "a tagged value (!!binary, !!set, !!omap, ...)";
}

export function parseStackFile(path: string, text: string): StackFile {
    const doc = parseDocument(text, PARSE_OPTIONS);
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
    const data = dataOf(path, doc);
    if (Object.hasOwn(data, "config") && kindOfValue(data.config) !== "a map")
        throw new StackFileError(
            `${path}: "config" holds ${kindOfValue(data.config)}, not a map of config keys (${PROJECT}:<key>: <value>); fix it in an editor`,
        );
    return { path, text, doc, data };
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

function configOf(file: StackFile): Record<string, unknown> {
    return (file.data.config as Record<string, unknown> | undefined) ?? {};
}

/**
 * The program's config from the file: every `titan-secrets:<key>` as
 * `<key>` (what the program reads with pulumi.Config("titan-secrets")).
 */
export function rawConfigOf(file: StackFile): RawConfig {
    return rawConfigFrom(configOf(file));
}

/** The exchange keys the file holds (which fields, whether secure), read without decrypting anything. */
export function exchangeKeysOf(file: StackFile): ExchangeKeyPresence {
    return presenceInStackFile(configOf(file)[`${PROJECT}:exchangeKeys`]);
}

/** The value a secret's key has in the file's data (aliases resolved), or undefined. */
export function secretValue(file: StackFile, secret: string, key: string): unknown {
    const secrets = configOf(file)[`${PROJECT}:secrets`] as Record<string, unknown> | undefined;
    const map = secrets !== null && typeof secrets === "object" && Object.hasOwn(secrets, secret) ? secrets[secret] : undefined;
    return map !== null && typeof map === "object" && Object.hasOwn(map, key) ? (map as Record<string, unknown>)[key] : undefined;
}

/**
 * Applies the edits and returns the new text, changing nothing else.
 *
 * Refused first (LayoutError) when a node on the way to an edited key is
 * shared through an anchor/alias or a merge key, or is not a map
 * (editProblem). A file that reads back byte for byte through the Document
 * API (the committed stack files) is edited with it: setIn/deleteIn,
 * toString. Other layouts (the unindented lists `pulumi config set` writes,
 * a byte order mark, CRLF line endings) would be rewritten by toString, so
 * there each edit replaces, inserts or removes only the bytes of its own
 * key, at the positions the parsed document gives, in the file's line
 * ending. Either way the result must parse to the original data with
 * exactly these edits applied (no other secret, nothing outside the
 * secrets), with the same byte order mark and line endings, or nothing is
 * written (LayoutError).
 */
export function applyEdits(file: StackFile, edits: SecretEdit[]): string {
    if (edits.length === 0) return file.text;
    for (const secret of new Set(edits.map((e) => e.secret))) {
        const keys = edits.filter((e) => e.secret === secret).map((e) => e.key);
        const problem = editProblem(file.path, file.doc, secret, keys);
        if (problem) throw new LayoutError(problem);
    }
    const doc = parseDocument(file.text, PARSE_OPTIONS);
    for (const e of edits) {
        const path = secretKeyPath(e.secret, e.key);
        if (e.value === undefined) {
            if (doc.hasIn(path)) doc.deleteIn(path);
        } else {
            doc.setIn(path, e.value);
        }
    }
    const roundTrips = parseDocument(file.text, PARSE_OPTIONS).toString() === file.text;
    const text = roundTrips ? doc.toString() : editInPlace(file.text, edits);
    if (text === undefined)
        throw new LayoutError(`${file.path}: the edit cannot be made without changing other lines (unusual layout); ${byHand(edits)}`);
    checkEdited(file, edits, text);
    return text;
}

const byHand = (edits: SecretEdit[]) => `make it by hand: ${edits.map(describeEdit).join(", ")}`;

/**
 * The invariant, on the text about to be written (LayoutError when it does
 * not hold): it parses to the original data with exactly the edits applied,
 * so no secret but the edited ones and nothing outside the secrets changed,
 * and it keeps the original's byte order mark and line endings.
 */
export function checkEdited(file: StackFile, edits: SecretEdit[], text: string): void {
    let after: StackFile;
    try {
        after = parseStackFile(file.path, text);
    } catch (e) {
        if (!(e instanceof StackFileError)) throw e;
        throw new LayoutError(`${file.path}: the edited file would not read back (${e.message}); nothing was written; ${byHand(edits)}`);
    }
    if (!sameData(after.data, withEdits(file.data, edits))) {
        const edited = new Set(edits.map((e) => e.secret));
        const { secrets, outside } = dataChanges(file.data, after.data);
        const others = secrets.filter((s) => !edited.has(s)).map((s) => `${PROJECT}:secrets.${s}`);
        const what = [
            ...(others.length > 0 ? [`also change ${others.join(", ")}`] : []),
            ...(outside ? [`change config outside ${PROJECT}:secrets`] : []),
        ];
        throw new LayoutError(
            `${file.path}: the edit of ${[...edited].join(", ")} would ${what.length > 0 ? what.join(" and ") : "not read back as the values asked for (an explicit tag such as !!str on a value?)"}; nothing was written; ${byHand(edits)}`,
        );
    }
    const encoding = encodingProblem(file.text, text);
    if (encoding)
        throw new LayoutError(
            `${file.path}: the edit cannot be made in this file as it is: ${encoding}; nothing was written; ${byHand(edits)}`,
        );
}

function describeEdit(e: SecretEdit): string {
    return e.value === undefined ? `remove secrets.${e.secret}.${e.key}` : `set secrets.${e.secret}.${e.key} to ${JSON.stringify(e.value)}`;
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
    // A line it adds ends as the file's lines do (CRLF in a file written on Windows).
    const eol = original.includes("\r\n") ? "\r\n" : "\n";
    let text = original;
    for (const e of edits) {
        const doc = parseDocument(text, PARSE_OPTIONS);
        const map = doc.getIn(["config", `${PROJECT}:secrets`, e.secret], true);
        if (!isMap(map)) return undefined;
        const pair = map.items.find((p) => isScalar(p.key) && p.key.value === e.key);
        const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
        // In a flow map ({generation: 1, ...}) a value can be replaced where it is; a key cannot be added or removed by lines.
        if (map.flow && (e.value === undefined ? pair !== undefined : pair === undefined)) return undefined;
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
            const before = text.slice(0, at) + (at === text.length && !text.endsWith("\n") ? eol : "");
            text = before + `${" ".repeat(indent)}${e.key}: ${scalarText(e.value)}${eol}` + text.slice(at);
        }
    }
    return text;
}
