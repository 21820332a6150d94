// check-logs never says clean about what it did not scan (issue 23, class 5):
// inputs decided by their bytes, not their names (gzip, other compressed
// formats, UTF-16, binary); values found however the log splits, escapes or
// encodes them; bounded memory with limits that report "unscanned"; values
// files with a name given twice; a fleet's workload stack, whose keys are
// its key stack's. Inputs are made here (zlib, Buffers), not fixtures.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USAGE } from "../cli/check-logs/args";
import { Io, main } from "../cli/check-logs/cli";
import { compileMatcher } from "../cli/check-logs/matcher";
import { buildReport } from "../cli/check-logs/report";
import { DEFAULT_LIMITS, FileStats, scanInput, Sink, streamInput } from "../cli/check-logs/scan";
import { duplicateNames, keyStackOf, SECRET_SIG, valuesFileSource } from "../cli/check-logs/sources";
import { Runner } from "../cli/common";

const REPO = join(__dirname, "..");
const SCRIPT = join(REPO, "cli", "check-logs", "main.ts");
const HMAC = "3f9a1c0be47d25a8c6f01e9b7d4a2c58e1b09f3d6a7c4e2b8d5f0a1c3e7b9d24";
const PASSWORD = "Qm7tVx2LpR9sKd4WnY8bZc3HfJ6gT1aE";
const API_SECRET = 'Ex/Key+9=&q?z%3D~secret"x';
const PHRASE = "correct horse/battery staple";
const VALUES = { "titan-hmac-g2": HMAC, "titan-redis-password-g1": PASSWORD, exchange: API_SECRET, phrase: PHRASE };

let dir: string;
let valuesFile: string;
/** Everything main() printed, checked last for values. */
const transcript: string[] = [];

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "check-logs-inputs-"));
    valuesFile = join(dir, "values.json");
    writeFileSync(valuesFile, JSON.stringify(VALUES));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(overrides: Partial<Io> = {}): Io & { text: () => string } {
    const out: string[] = [];
    return {
        out: (t) => void out.push(t),
        err: (t) => void out.push(t),
        repo: REPO,
        run: () => {
            throw new Error("must not run");
        },
        env: {},
        stdin: Readable.from([]),
        stdinIsTTY: false,
        ...overrides,
        text: () => {
            transcript.push(...out);
            return out.join("");
        },
    };
}

function file(name: string, content: string | Buffer): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
}

/** main() on files with the values file: exit code and output. */
async function check(files: string[], extra: string[] = []): Promise<{ code: number; out: string }> {
    const i = io();
    const code = await main(["--values-from", valuesFile, ...extra, ...files], i);
    return { code, out: i.text() };
}

const findings = (out: string) => out.split("\n").filter((l) => / secret=/.test(l));

const LOG = `INFO start\nDEBUG signing with ${HMAC}\nINFO done\n`;

describe("inputs are read by their bytes, not their names", () => {
    it.each([
        ["a rotated log that is gzip", "app.log.1", () => gzipSync(LOG)],
        ["an upper-case .GZ", "APP.LOG.GZ", () => gzipSync(LOG)],
        ["gzip inside gzip", "twice.log", () => gzipSync(gzipSync(LOG))],
        ["UTF-16LE with a BOM", "utf16le.log", () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(LOG, "utf16le")])],
        ["UTF-16BE with a BOM", "utf16be.log", () => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(LOG, "utf16le").swap16()])],
        ["UTF-16LE without a BOM", "utf16le-nobom.log", () => Buffer.from(LOG, "utf16le")],
        ["UTF-8 with a BOM", "bom.log", () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(LOG)])],
        ["gzip of UTF-16", "utf16.gz", () => gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(LOG, "utf16le")]))],
    ])("finds the value in %s", async (_label, name, content) => {
        const path = file(name, content());
        const r = await check([path]);
        expect(findings(r.out)).toEqual([`${path}:2:20 secret=titan-hmac-g2 encoding=raw`]);
        expect(r.code).toBe(1);
    });

    it.each([
        ["zstd", Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x61, 0x00]), /zstd-compressed \(decompress it first: zstd -d\)/],
        ["bzip2", Buffer.from("BZh91AY&SY\x00\x01", "latin1"), /bzip2-compressed/],
        ["xz", Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04]), /xz-compressed/],
        ["UTF-32", Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from("a\0\0\0")]), /UTF-32/],
        ["gzip of xz", gzipSync(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04])), /gzip data holding xz-compressed/],
        ["random bytes", randomBytes(4096), /binary data \(bytes that are not UTF-8 text/],
    ])("reports %s as not scanned, never clean (exit 3)", async (name, content, reason) => {
        const path = file(`${name.replace(/ /g, "-")}.log`, content);
        const clean = file("ok.log", "INFO nothing here\n");
        const r = await check([clean, path]);
        expect(r.code).toBe(3);
        expect(r.out).toMatch(new RegExp(`NOT SCANNED ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${reason.source}`));
        expect(r.out.trimEnd().split("\n").pop()).toMatch(/; 1 of 2 inputs not scanned \(or only in part\)$/);
        expect(r.out).not.toMatch(/clean|nothing was logged/);
    });

    it("reports a truncated gzip as not scanned, after what it could read", async () => {
        const whole = gzipSync(LOG + "x\n".repeat(10_000));
        const path = file("truncated.log.gz", whole.subarray(0, whole.length - 20));
        const r = await check([path]);
        expect(findings(r.out)).toEqual([`${path}:2:20 secret=titan-hmac-g2 encoding=raw`]);
        expect(r.out).toMatch(
            /NOT SCANNED .*truncated\.log\.gz: gzip data is corrupt or truncated \(unexpected end of file\); read up to line \d+/,
        );
        // A finding outranks the unscanned input.
        expect(r.code).toBe(1);
    });

    it("--json has the unscanned inputs and exit code 3; the usage documents it", async () => {
        const path = file("zstd-json.log", Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]));
        const r = await check([path], ["--json"]);
        const report = JSON.parse(r.out);
        expect(report).toMatchObject({ clean: false, exitCode: 3, unscanned: [{ file: path }], summary: { unscanned: 1 } });
        expect(r.code).toBe(3);
        expect(USAGE).toMatch(/3 an input\s+not scanned, or not to its end/);
    });

    it("a report that searched for no value is never clean", () => {
        const files: FileStats[] = [{ file: "a", lines: 3, maskedLines: 0, leaks: 0, secretFields: 0, unmaskedFields: 0 }];
        const base = { source: "s", tooShort: [], files, leaks: [], unmaskedFields: [], leakedSecrets: {} };
        expect(buildReport({ ...base, searched: ["x"] })).toMatchObject({ clean: true, exitCode: 0 });
        expect(buildReport({ ...base, searched: [] })).toMatchObject({ clean: false, exitCode: 3 });
    });
});

describe("values however the log splits, escapes or encodes them", () => {
    const m = compileMatcher(Object.entries(VALUES).map(([name, value]) => ({ name, value })));
    const found = (text: string) => m.find(text).map((f) => `${f.index} ${f.secret} ${f.encoding}`);
    const hexBytes = (v: string, sep: string) => v.match(/../g)!.join(sep);
    const every = (v: string, f: (c: string) => string) => [...v].map(f).join("");

    it.each([
        ["split over two lines", `key ${HMAC.slice(0, 30)}\n${HMAC.slice(30)} end`, "titan-hmac-g2 raw"],
        ["split by CRLF", `key ${HMAC.slice(0, 30)}\r\n${HMAC.slice(30)}`, "titan-hmac-g2 raw"],
        [
            "split by the kubelet into CRI partial lines",
            `key ${HMAC.slice(0, 30)}\n2026-11-25T10:00:00.123456789Z stdout F ${HMAC.slice(30)}`,
            "titan-hmac-g2 raw",
        ],
        [
            "split over two lines of kubectl logs --prefix",
            `key ${HMAC.slice(0, 30)}\n[pod/titan-brain-6d4f9/brain] ${HMAC.slice(30)}`,
            "titan-hmac-g2 raw",
        ],
        [
            "split over two Docker json-file records",
            `key ${HMAC.slice(0, 30)}","stream":"stdout","time":"2026-11-25T10:00:00.1Z"}\n{"log":"${HMAC.slice(30)}\\n","stream":"stdout","time":"2026-11-25T10:00:00.2Z"}`,
            "titan-hmac-g2 raw",
        ],
        [
            "wrapped at a width, indented",
            `key ${PASSWORD.slice(0, 7)}\n    ${PASSWORD.slice(7, 19)}  \n    ${PASSWORD.slice(19)}`,
            "titan-redis-password-g1 raw",
        ],
        [
            "in a JSON string with \\n escapes",
            `key ${HMAC.slice(0, 20)}\\n${HMAC.slice(20, 50)}\\r\\n${HMAC.slice(50)}", "x": 1}`,
            "titan-hmac-g2 json",
        ],
        ["JSON-escaped \\/", `key ${API_SECRET.replace(/\//g, "\\/").replace(/"/g, '\\"')}"}`, "exchange json+url"],
        [
            "in JSON \\u00XX escapes",
            `key ${every(PASSWORD, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}"`,
            "titan-redis-password-g1 json",
        ],
        [
            "lower-case percent-encoding",
            `key ${encodeURIComponent(API_SECRET).replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase())}`,
            "exchange url",
        ],
        ["form-encoded", `key ${encodeURIComponent(PHRASE).replace(/%20/g, "+")}&x=1`, "phrase url+form"],
        ["form-encoded in lower case", `key ${encodeURIComponent(PHRASE).replace(/%20/g, "+").toLowerCase()}`, "phrase url+form"],
        [
            "HTML hex references",
            `key ${API_SECRET.replace(/\//g, "&#x2F;")
                .replace(/&(?!#)/g, "&amp;")
                .replace(/"/g, "&quot;")}`,
            "exchange html+url",
        ],
        ["HTML decimal references", `key ${every(PASSWORD, (c) => `&#${c.charCodeAt(0)};`)}`, "titan-redis-password-g1 html"],
        ["HTML inside JSON", `key ${API_SECRET.replace(/\//g, "\\u0026#47;").replace(/"/g, '\\"')}"`, "exchange json+html+url"],
        ["in decimal bytes (Rust's debug print)", `key [${[...Buffer.from(HMAC, "hex")].join(", ")}]`, "titan-hmac-g2 decimal-bytes", 5],
        [
            "in decimal bytes (Go's debug print)",
            `key [${[...Buffer.from(PASSWORD)].join(" ")}]`,
            "titan-redis-password-g1 decimal-bytes+hex",
            5,
        ],
        ["hex bytes with colons", `key ${hexBytes(HMAC, ":")}`, "titan-hmac-g2 hex-separated"],
        ["hex bytes with spaces", `key ${hexBytes(HMAC, " ")}`, "titan-hmac-g2 hex-separated"],
        ["hex bytes upper case with dashes", `key ${hexBytes(HMAC.toUpperCase(), "-")}`, "titan-hmac-g2 hex-separated"],
        ["in hex bytes as a 0x list (from its first digit)", `key 0x${hexBytes(HMAC, ", 0x")}`, "titan-hmac-g2 hex-separated", 6],
        [
            "a password's UTF-8 bytes as hex",
            `key ${hexBytes(Buffer.from(PASSWORD).toString("hex"), ":")}`,
            "titan-redis-password-g1 hex-separated+hex",
        ],
        [
            "split by ANSI colours (from its first character)",
            `key ${every(HMAC, (c) => `\x1b[3${c.charCodeAt(0) % 8}m${c}`)}\x1b[0m`,
            "titan-hmac-g2 raw",
            9,
        ],
        ["zero-width characters", `key ${every(PASSWORD, (c) => `${c}\u200b`)}`, "titan-redis-password-g1 raw"],
        [
            "zero-width joiners, BOMs and soft hyphens",
            `key ${every(PASSWORD, (c) => `${c}\u200c\u200d\ufeff\u00ad`)}`,
            "titan-redis-password-g1 raw",
        ],
    ])("finds a value %s, where it starts", (_label, text, expected, index = 4) => {
        expect(found(text)).toEqual([`${index} ${expected}`]);
    });

    it("finds nothing in ordinary log text", () => {
        const text = [
            '2026-11-25T10:00:00.123+00:00 INFO {"msg":"order \\"accepted\\"","path":"\\/api\\/v1?x=1&amp;y=%2F"}',
            "ids 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 at 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8",
            "mac 00:1a:2b:3c:4d:5e uuid 3f9a1c0b-e47d-25a8-c6f0-1e9b7d4a2c58 \x1b[32mok\x1b[0m",
        ].join("\n");
        expect(found(text)).toEqual([]);
    });

    it("reports the line and column where a split value starts", async () => {
        const path = file("split.log", `INFO a\nDEBUG  key=${HMAC.slice(0, 33)}\n${HMAC.slice(33)}\nINFO b\n`);
        const r = await check([path]);
        expect(findings(r.out)).toEqual([`${path}:2:12 secret=titan-hmac-g2 encoding=raw`]);
    });
});

describe("bounded memory, limits reported as unscanned", () => {
    const matcher = compileMatcher(Object.entries(VALUES).map(([name, value]) => ({ name, value })));
    async function scan(chunks: Array<string | Buffer>, limits: Partial<typeof DEFAULT_LIMITS & { windowChars: number }> = {}) {
        const leaks: string[] = [];
        const sink: Sink = { leak: (_f, line, l) => void leaks.push(`${line}:${l.column} ${l.secret}`), unmasked: () => undefined };
        const stats = await scanInput(streamInput("s", Readable.from(chunks.map((c) => Buffer.from(c)))), matcher, sink, {
            ...DEFAULT_LIMITS,
            ...limits,
        });
        return { leaks, stats };
    }

    it("finds a value that straddles two windows, once", async () => {
        // windowChars 1: each line is a window of its own, after the overlap.
        const r = await scan([`a ${HMAC.slice(0, 40)}\n${HMAC.slice(40)} b\n`, `c ${PASSWORD}\nd\ne\n`], { windowChars: 1 });
        expect(r.leaks).toEqual(["1:3 titan-hmac-g2", "3:3 titan-redis-password-g1"]);
        expect(r.stats).toMatchObject({ lines: 5, leaks: 2 });
        expect(r.stats.unscanned).toBeUndefined();
    });

    it("finds a value split between two reads, in the middle of a UTF-16 character", async () => {
        const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`x ${PASSWORD}\n`, "utf16le")]);
        const r = await scan([bytes.subarray(0, 13), bytes.subarray(13, 30), bytes.subarray(30)]);
        expect(r.leaks).toEqual(["1:3 titan-redis-password-g1"]);
    });

    it("stops at a line past --max-line-length: unscanned with the limit, what came before reported", async () => {
        const r = await scan([`x ${PASSWORD}\n`, "y".repeat(600), "y".repeat(600), `\nz ${HMAC}\n`], { maxLineChars: 1000 });
        expect(r.leaks).toEqual(["1:3 titan-redis-password-g1"]);
        expect(r.stats.unscanned).toBe("line 2 is longer than the limit of 1000 characters (--max-line-length): not scanned from there");
        // The whole long line in one read, its end included.
        const whole = await scan([`x ${PASSWORD}\n${"y".repeat(1001)}\nz ${HMAC}\n`], { maxLineChars: 1000 });
        expect(whole.leaks).toEqual(["1:3 titan-redis-password-g1"]);
        expect(whole.stats.unscanned).toMatch(/^line 2 is longer than the limit of 1000 characters/);
    });

    it("stops gzip past --max-decompressed-size: unscanned with the limit", async () => {
        const path = file("many.log.gz", gzipSync(`k ${PASSWORD}\n` + "INFO a short line\n".repeat(200_000)));
        const r = await check([path], ["--max-decompressed-size", "64K"]);
        expect(r.code).toBe(1);
        expect(r.out).toMatch(
            /NOT SCANNED .*many\.log\.gz: gzip data decompresses to more than the limit of 65536 bytes \(--max-decompressed-size\): not scanned past it; read up to line \d+/,
        );
    });

    it("a 300 MB line in a small gzip (a gzip bomb) stops at the line limit, in a 48 MB heap, with a message", async () => {
        // gzip members concatenate: one member of 1 MiB of "A" (about 1 KB), 300 times.
        const member = gzipSync(Buffer.alloc(1 << 20, "A"));
        const path = file("bomb.log.1", Buffer.concat(Array.from({ length: 300 }, () => member)));
        expect(member.length * 300).toBeLessThan(400_000);
        const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
            const child = spawn(
                process.execPath,
                ["--max-old-space-size=48", "--import", "tsx", SCRIPT, "--values-from", valuesFile, path],
                {
                    cwd: REPO,
                    stdio: ["ignore", "pipe", "pipe"],
                },
            );
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
        transcript.push(r.stdout, r.stderr);
        expect(r.stderr).toBe("");
        expect(r.stdout).toContain(
            `NOT SCANNED ${path}: line 1 is longer than the limit of ${DEFAULT_LIMITS.maxLineChars} characters (--max-line-length): not scanned from there`,
        );
        expect(r.code).toBe(3);
    });
});

describe("values files", () => {
    it("refuses a name given twice, naming it and not its values", async () => {
        const path = file("dup.json", `{"a": "${PASSWORD}", "b": "x", "a": "${HMAC}"}`);
        expect(() => valuesFileSource(path).load()).toThrow(
            /--values-from .*dup\.json: found the name "a" more than once; allowed: each name once/,
        );
        const r = io();
        expect(await main(["--values-from", path, file("v.log", "x\n")], r)).toBe(2);
        const text = r.text();
        expect(text).toMatch(/found the name "a" more than once/);
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(HMAC);
    });

    it("compares names decoded, and only the top level's", () => {
        expect(duplicateNames(`{"a": 1, "\\u0061": 2}`)).toEqual(["a"]);
        expect(duplicateNames(`{"a": {"x": 1, "x": 2}, "b": ["a", "a"], "c\\"": "a"}`)).toEqual([]);
        expect(duplicateNames(`{"b":"1","c":"2","b":"3","c":"4"}`)).toEqual(["b", "c"]);
    });

    it("reads a values file with a UTF-8 BOM", () => {
        const path = file("bom.json", `\ufeff{"a": "${PASSWORD}"}`);
        expect(valuesFileSource(path).load()).toEqual([{ name: "a", value: PASSWORD }]);
    });
});

describe("a fleet's workload stack", () => {
    const KEY1 = "a1".repeat(32);
    const KEY2 = "b2".repeat(32);
    const secret = (v: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(v) });
    const keysExport = {
        deployment: {
            resources: [
                {
                    urn: "urn:pulumi:keys::titan-secrets::pulumi:pulumi:Stack::titan-secrets-keys",
                    type: "pulumi:pulumi:Stack",
                    outputs: { keyRing: { clusters: ["eu"] }, keyMaterial: secret({ "titan-hmac": { g1: KEY1, g2: KEY2 } }) },
                },
                {
                    urn: "urn:pulumi:keys::titan-secrets::random:index/randomPassword:RandomPassword::titan-hmac-g1",
                    type: "random:index/randomPassword:RandomPassword",
                    outputs: { result: secret(KEY1) },
                },
            ],
        },
    };
    const euExport = {
        deployment: {
            resources: [
                { urn: "urn:pulumi:eu::titan-secrets::pulumi:pulumi:Stack::titan-secrets-eu", type: "pulumi:pulumi:Stack", outputs: {} },
                {
                    urn: "urn:pulumi:eu::titan-secrets::pulumi:pulumi:StackReference::key-ring",
                    type: "pulumi:pulumi:StackReference",
                    outputs: {},
                },
            ],
        },
    };
    const euConfig = {
        "titan-secrets:fleet": {
            value: '{"keyRing":"keys","role":"workloads"}',
            objectValue: { role: "workloads", keyRing: "keys" },
            secret: false,
        },
    };

    function fleetIo(keys: unknown): Io & { text: () => string; calls: string[][] } {
        const repo = mkdtempSync(join(dir, "repo-"));
        mkdirSync(join(repo, "bin"));
        writeFileSync(join(repo, "bin", "pulumi"), "");
        const calls: string[][] = [];
        const run: Runner = (cmd, args) => {
            calls.push([cmd, ...args]);
            const stack = args[args.indexOf("--stack") + 1];
            const doc = args[0] === "config" ? (stack === "eu" ? euConfig : {}) : stack === "eu" ? euExport : keys;
            return { status: 0, stdout: JSON.stringify(doc), stderr: "" };
        };
        return Object.assign(io({ repo, run, env: { PATH: join(repo, "bin") } }), { calls });
    }

    it("--stack <workload stack> searches for its key stack's keys", async () => {
        const i = fleetIo(keysExport);
        const log = file("eu.log", `INFO verifying with ${KEY2}\nINFO old ${KEY1}\n`);
        expect(await main(["--stack", "eu", log], i)).toBe(1);
        const out = i.text();
        expect(findings(out)).toEqual([`${log}:1:21 secret=titan-hmac-g2 encoding=raw`, `${log}:2:10 secret=titan-hmac-g1 encoding=raw`]);
        expect(out).toContain("keys of key stack keys (fleet.keyRing of workload stack eu)");
        expect(i.calls).toContainEqual(["pulumi", "stack", "export", "--stack", "keys", "--show-secrets", "--non-interactive"]);
    });

    it("refuses, naming the key stack, when the key stack holds no keys", async () => {
        const i = fleetIo({ deployment: { resources: [] } });
        expect(await main(["--stack", "eu", file("eu2.log", "x\n")], i)).toBe(2);
        expect(i.text()).toMatch(
            /stack eu is a workload stack \(titan-secrets:fleet\.role workloads\): its keys are those of its key stack keys, whose state holds none .* scan with --stack keys once it has keys/,
        );
    });
});

describe("the fleet role in a stack's config", () => {
    it("names the key stack of a workload stack only, and refuses what it cannot tell", () => {
        const fleet = (v: unknown) => ({ "titan-secrets:fleet": { value: JSON.stringify(v), secret: false } });
        expect(keyStackOf(fleet({ role: "workloads", keyRing: "keys" }), "eu")).toBe("keys");
        expect(keyStackOf(fleet({ role: "keys", clusters: ["eu"] }), "keys")).toBeUndefined();
        expect(keyStackOf({}, "dev")).toBeUndefined();
        expect(() => keyStackOf(fleet({ role: "workloads" }), "eu")).toThrow(
            /config titan-secrets:fleet\.keyRing of stack eu: found undefined; allowed: the name of its key stack/,
        );
        expect(() => keyStackOf(fleet("workloads"), "eu")).toThrow(/titan-secrets:fleet of stack eu is not an object/);
    });
});

describe("output", () => {
    it("never printed a planted value", () => {
        const all = transcript.join("\n");
        expect(all.length).toBeGreaterThan(1000);
        for (const v of [...Object.values(VALUES), "a1".repeat(32), "b2".repeat(32)]) expect(all).not.toContain(v);
        expect(all).not.toContain(Buffer.from(PASSWORD).toString("base64"));
    });
});
