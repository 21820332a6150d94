// Reads logs as a stream and hands each finding to the caller as it is
// found, in memory bounded by the limits whatever the input (decode.ts: the
// bytes to text; here: the text to lines and windows).
//
// Lines are checked one by one for secret-looking fields. Values are
// searched in windows of whole lines (a value can be wrapped over several),
// each window starting with the last lines of the one before, at least
// matcher.overlapChars of them: a value straddling two windows is whole in
// the second. Findings are reported in line order, each once.
//
// A log that cannot be read to its end (not text, a compressed format it
// cannot read, corrupt gzip, a line or a decompressed size past its limit,
// a read error) is "unscanned": what was read is still reported, and the
// reason is in the file's stats. Never "clean".

import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { plainBytes, textOf, Unreadable } from "./decode";
import { FieldHit } from "./fields";
import { columnOf, Leak, Matcher } from "./matcher";

/** How reports name standard input. */
export const STDIN_NAME = "<stdin>";

export interface LogInput {
    /** As reports name it: the path as given, or STDIN_NAME. */
    name: string;
    open(): Readable;
}

export interface ScanLimits {
    /** Characters one line may hold (a longer one stops the file: unscanned from there). */
    maxLineChars: number;
    /** Bytes a gzip stream may decompress to. */
    maxDecompressedBytes: number;
    /** Characters of new text per window (default: 64 Ki, or the matcher's overlap if longer). */
    windowChars?: number;
}

export const DEFAULT_LIMITS: ScanLimits = { maxLineChars: 1 << 20, maxDecompressedBytes: 4 * 2 ** 30 };

export interface FileStats {
    file: string;
    lines: number;
    /** Lines showing [MASKED]. */
    maskedLines: number;
    leaks: number;
    /** Secret-looking fields, and those of them without [MASKED]. */
    secretFields: number;
    unmaskedFields: number;
    /** Why the file was not read to its end (then it was scanned up to `lines` only). */
    unscanned?: string;
}

export interface Sink {
    leak(file: string, line: number, leak: Leak): void;
    unmasked(file: string, line: number, field: FieldHit): void;
}

export function fileInput(path: string): LogInput {
    return { name: path, open: () => createReadStream(path) };
}

export function streamInput(name: string, stream: Readable): LogInput {
    return { name, open: () => stream };
}

type Finding = { line: number; leak: Leak; field?: undefined } | { line: number; field: FieldHit; leak?: undefined };

/** Line order; in a line, leaks (by column) before fields, as they were found. */
function byLine(a: Finding, b: Finding): number {
    if (a.line !== b.line) return a.line - b.line;
    if (a.leak && b.leak)
        return a.leak.column - b.leak.column || (a.leak.secret < b.leak.secret ? -1 : a.leak.secret > b.leak.secret ? 1 : 0);
    return a.leak ? -1 : b.leak ? 1 : 0;
}

/** Why reading stopped, for the report: never a piece of the log. */
function reason(e: unknown): string {
    if (e instanceof Unreadable) return e.message;
    const code = (e as NodeJS.ErrnoException).code;
    return `cannot read (${typeof code === "string" ? code : e instanceof Error ? e.message : String(e)})`;
}

export async function scanInput(input: LogInput, matcher: Matcher, sink: Sink, limits: ScanLimits = DEFAULT_LIMITS): Promise<FileStats> {
    const stats: FileStats = { file: input.name, lines: 0, maskedLines: 0, leaks: 0, secretFields: 0, unmaskedFields: 0 };
    const windowChars = limits.windowChars ?? Math.max(1 << 16, matcher.overlapChars);
    /** The window: whole lines, the first of them line `first`. */
    let lines: string[] = [];
    let first = 1;
    let fresh = 0;
    /** Findings not yet emitted (a later window can still find a leak in these lines). */
    let pending: Finding[] = [];
    /** Leaks found, by line, column and secret: the next window finds those of the overlap again. */
    let reported = new Set<string>();

    const emit = (f: Finding) => {
        if (f.leak) {
            stats.leaks++;
            sink.leak(input.name, f.line, f.leak);
        } else sink.unmasked(input.name, f.line, f.field);
    };

    const scanWindow = (last: boolean) => {
        const text = lines.join("\n");
        const starts: number[] = [];
        for (let i = 0, at = 0; i < lines.length; at += lines[i].length + 1, i++) starts.push(at);
        let l = 0;
        for (const f of matcher.find(text)) {
            while (l + 1 < starts.length && starts[l + 1] <= f.index) l++;
            const column = columnOf(lines[l], f.index - starts[l]);
            const key = `${first + l}:${column}:${f.secret}`;
            if (reported.has(key)) continue;
            reported.add(key);
            pending.push({ line: first + l, leak: { column, secret: f.secret, encoding: f.encoding } });
        }
        // Keep the last lines for the next window: at least overlapChars of them.
        let keep = lines.length;
        if (!last) for (let size = 0; keep > 0 && size < matcher.overlapChars;) size += lines[--keep].length + 1;
        const next = first + keep;
        pending.sort(byLine);
        const ready = last ? pending : pending.filter((f) => f.line < next);
        pending = last ? [] : pending.filter((f) => f.line >= next);
        for (const f of ready) emit(f);
        reported = new Set([...reported].filter((k) => parseInt(k, 10) >= next));
        lines = lines.slice(keep);
        first = next;
        fresh = 0;
    };

    const addLine = (raw: string) => {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        const n = ++stats.lines;
        if (line.includes("[MASKED]")) stats.maskedLines++;
        for (const field of matcher.fields(line)) {
            stats.secretFields++;
            if (!field.masked) {
                stats.unmaskedFields++;
                pending.push({ line: n, field });
            }
        }
        lines.push(line);
        fresh += line.length + 1;
        if (fresh >= windowChars) scanWindow(false);
    };

    const tooLong = () =>
        new Unreadable(
            `line ${stats.lines + 1} is longer than the limit of ${limits.maxLineChars} characters (--max-line-length): not scanned from there`,
        );

    let partial = "";
    try {
        for await (const text of textOf(plainBytes(input.open(), limits))) {
            let start = 0;
            for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
                if (partial.length + nl - start > limits.maxLineChars) throw tooLong();
                addLine(partial + text.slice(start, nl));
                partial = "";
                start = nl + 1;
            }
            if (partial.length + text.length - start > limits.maxLineChars) throw tooLong();
            partial += text.slice(start);
        }
        if (partial !== "") addLine(partial);
    } catch (e) {
        // What was read is scanned and reported; the rest is not, and the report says from where.
        stats.unscanned = reason(e);
        if (!stats.unscanned.startsWith("line ")) stats.unscanned += stats.lines > 0 ? `; read up to line ${stats.lines}` : "";
    }
    scanWindow(true);
    return stats;
}
