// Reads logs line by line (readline over a stream: memory stays bounded
// whatever the file's size; a single line is held whole) and hands each
// line's findings to the caller as they are found.

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { FieldHit } from "./fields";
import { Leak, Matcher } from "./matcher";

/** How reports name standard input. */
export const STDIN_NAME = "<stdin>";

export interface LogInput {
    /** As reports name it: the path as given, or STDIN_NAME. */
    name: string;
    open(): Readable;
}

export interface FileStats {
    file: string;
    lines: number;
    /** Lines showing [MASKED]. */
    maskedLines: number;
    leaks: number;
    /** Secret-looking fields, and those of them without [MASKED]. */
    secretFields: number;
    unmaskedFields: number;
}

export interface Sink {
    leak(file: string, line: number, leak: Leak): void;
    unmasked(file: string, line: number, field: FieldHit): void;
}

export function fileInput(path: string): LogInput {
    return {
        name: path,
        open: () => {
            const stream = createReadStream(path);
            if (!path.endsWith(".gz")) return stream;
            // Rotated logs are often gzipped.
            const gunzip = createGunzip();
            stream.on("error", (e) => gunzip.destroy(e));
            return stream.pipe(gunzip);
        },
    };
}

export function streamInput(name: string, stream: Readable): LogInput {
    return { name, open: () => stream };
}

export async function scanInput(input: LogInput, matcher: Matcher, sink: Sink): Promise<FileStats> {
    const stats: FileStats = { file: input.name, lines: 0, maskedLines: 0, leaks: 0, secretFields: 0, unmaskedFields: 0 };
    const stream = input.open();
    const failed = new Promise<never>((_, reject) => stream.once("error", reject));
    failed.catch(() => undefined); // observed below
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    const read = (async () => {
        for await (const line of lines) {
            const n = ++stats.lines;
            const r = matcher.scanLine(line);
            if (r.masked) stats.maskedLines++;
            for (const leak of r.leaks) {
                stats.leaks++;
                sink.leak(input.name, n, leak);
            }
            for (const f of r.fields) {
                stats.secretFields++;
                if (!f.masked) {
                    stats.unmaskedFields++;
                    sink.unmasked(input.name, n, f);
                }
            }
        }
    })();
    read.catch(() => undefined); // observed by the race
    await Promise.race([read, failed]);
    return stats;
}
