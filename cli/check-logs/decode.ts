// From a log's bytes to its text, or a reason it cannot be read. Decided by
// content, never by the file's name: gzip by its magic bytes (1f 8b, also
// in `app.log.1` or `.GZ`, nested too), decompressed as a stream with a cap
// on its decompressed size (a gzip bomb stops there, with a message); other
// compressed formats are named and refused (they are not text, and a tool
// that cannot read them must not call them clean); text is UTF-8, or UTF-16
// by its byte order mark (or by its zero bytes when it has none). Bytes that
// do not decode as text, in a cluster, are binary data: refused from there.

import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** The log cannot be read (further): the reason, for the report. Never holds log content. */
export class Unreadable extends Error {}

export interface DecodeLimits {
    /** Bytes a gzip stream may decompress to. */
    maxDecompressedBytes: number;
}

/** Formats known by their first bytes that check-logs cannot read, and the command that can. */
const REFUSED: ReadonlyArray<{ magic: number[]; what: string }> = [
    { magic: [0x28, 0xb5, 0x2f, 0xfd], what: "zstd-compressed (decompress it first: zstd -d)" },
    { magic: [0x42, 0x5a, 0x68], what: "bzip2-compressed (decompress it first: bunzip2)" },
    { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: "xz-compressed (decompress it first: unxz)" },
    { magic: [0x04, 0x22, 0x4d, 0x18], what: "lz4-compressed (decompress it first: lz4 -d)" },
    { magic: [0x50, 0x4b, 0x03, 0x04], what: "a zip archive (extract it first: unzip)" },
    { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: "a 7z archive (extract it first: 7z x)" },
    { magic: [0xff, 0xfe, 0x00, 0x00], what: "UTF-32 text (convert it first: iconv -f UTF-32 -t UTF-8)" },
    { magic: [0x00, 0x00, 0xfe, 0xff], what: "UTF-32 text (convert it first: iconv -f UTF-32 -t UTF-8)" },
];

const GZIP = [0x1f, 0x8b];
/** gzip inside gzip: more layers than this is not a log. */
const MAX_GZIP_DEPTH = 4;
const HEAD = 16;

const startsWith = (head: Buffer, magic: number[]) => head.length >= magic.length && magic.every((b, i) => head[i] === b);

/** The first bytes of a stream, and the stream again from its start. */
async function peek(
    source: AsyncIterable<Buffer>,
    n: number,
): Promise<{ head: Buffer; all: AsyncGenerator<Buffer>; close: () => Promise<unknown> }> {
    const it = source[Symbol.asyncIterator]();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    while (size < n) {
        const r = await it.next();
        if (r.done) {
            done = true;
            break;
        }
        const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        chunks.push(chunk);
        size += chunk.length;
    }
    const head = Buffer.concat(chunks);
    async function* all(): AsyncGenerator<Buffer> {
        try {
            if (head.length > 0) yield head;
            if (done) return;
            for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
        } finally {
            await it.return?.();
        }
    }
    // `all` closes the source when it ends; `close` also when it never started (a refused format).
    return { head, all: all(), close: async () => it.return?.() };
}

/** A gzip stream's decompressed bytes, stopped past the cap. */
async function* gunzip(source: AsyncGenerator<Buffer>, limits: DecodeLimits): AsyncGenerator<Buffer> {
    const input = Readable.from(source);
    const z = createGunzip();
    input.on("error", (e) => z.destroy(e));
    input.pipe(z);
    let total = 0;
    try {
        for await (const chunk of z) {
            total += (chunk as Buffer).length;
            if (total > limits.maxDecompressedBytes) {
                throw new Unreadable(
                    `gzip data decompresses to more than the limit of ${limits.maxDecompressedBytes} bytes (--max-decompressed-size): not scanned past it`,
                );
            }
            yield chunk as Buffer;
        }
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code === "string" && code.startsWith("Z_"))
            throw new Unreadable(`gzip data is corrupt or truncated (${(e as Error).message})`);
        throw e;
    } finally {
        z.destroy();
        input.destroy();
    }
}

/** The bytes of a log, gunzipped (by magic bytes, as often as it is gzip); other compressed formats refused. */
export async function* plainBytes(source: AsyncIterable<Buffer>, limits: DecodeLimits, depth = 0): AsyncGenerator<Buffer> {
    const { head, all, close } = await peek(source, HEAD);
    try {
        if (startsWith(head, GZIP)) {
            if (depth >= MAX_GZIP_DEPTH) throw new Unreadable(`gzip nested more than ${MAX_GZIP_DEPTH} deep`);
            yield* plainBytes(gunzip(all, limits), limits, depth + 1);
            return;
        }
        const refused = REFUSED.find((r) => startsWith(head, r.magic));
        if (refused) throw new Unreadable(`${depth > 0 ? "gzip data holding " : ""}${refused.what}`);
        yield* all;
    } finally {
        await close();
    }
}

/** The encoding of text by its first bytes: a byte order mark, or UTF-16's zero bytes without one. */
export function textEncoding(head: Buffer): "utf-8" | "utf-16le" | "utf-16be" {
    if (head[0] === 0xff && head[1] === 0xfe) return "utf-16le";
    if (head[0] === 0xfe && head[1] === 0xff) return "utf-16be";
    // No BOM: ASCII as UTF-16 has a zero byte in every pair, on one side.
    const pairs = Math.floor(Math.min(head.length, HEAD) / 2);
    if (pairs >= 4) {
        let le = 0;
        let be = 0;
        for (let i = 0; i < pairs; i++) {
            const [a, b] = [head[2 * i], head[2 * i + 1]];
            if (a !== 0 && b === 0) le++;
            if (a === 0 && b !== 0) be++;
        }
        if (le === pairs) return "utf-16le";
        if (be === pairs) return "utf-16be";
    }
    return "utf-8";
}

/** Replacement characters this close together are binary data, not a stray byte in text. */
const BINARY_RUN = { count: 8, within: 256 };

/** The text of plain bytes (the BOM dropped), in chunks; throws Unreadable at binary data. */
export async function* textOf(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
    const { head, all } = await peek(bytes, HEAD);
    const encoding = textEncoding(head);
    const decoder = new TextDecoder(encoding);
    // Absolute positions (in characters) of the last replacement characters seen.
    const recent: number[] = [];
    let offset = 0;
    const check = (text: string) => {
        for (let i = text.indexOf("\ufffd"); i >= 0; i = text.indexOf("\ufffd", i + 1)) {
            recent.push(offset + i);
            if (recent.length > BINARY_RUN.count) recent.shift();
            if (recent.length === BINARY_RUN.count && recent[recent.length - 1] - recent[0] < BINARY_RUN.within) {
                throw new Unreadable(
                    `binary data (bytes that are not ${encoding === "utf-8" ? "UTF-8" : encoding.toUpperCase()} text; compressed or encrypted data cannot be searched)`,
                );
            }
        }
        offset += text.length;
        return text;
    };
    for await (const chunk of all) {
        const text = decoder.decode(chunk, { stream: true });
        if (text.length > 0) yield check(text);
    }
    const rest = decoder.decode();
    if (rest.length > 0) yield check(rest);
}
