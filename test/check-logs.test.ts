// check-logs (cli/check-logs/main.ts): the pure matcher and field check
// directly, the value sources on export/config documents shaped like the
// real CLI's, and the command end to end as a child process on real log
// files. Every byte the command prints is kept, and the last test checks
// that none of it holds a planted value in any encoding, nor a leaking line.

import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64Core, isHexValue, MIN_VALUE_LENGTH, needlesFor } from "../cli/check-logs/encodings";
import { isSecretFieldName, secretFields } from "../cli/check-logs/fields";
import { compileMatcher } from "../cli/check-logs/matcher";
import { parseArgs } from "../cli/check-logs/args";
import { DEFAULT_LIMITS } from "../cli/check-logs/scan";
import { Runner, UsageError } from "../cli/common";
import { backendFor } from "../cli/backend";
import { Io, main } from "../cli/check-logs/cli";
import {
    nameFromUrn,
    SECRET_SIG,
    SourceError,
    stackExportSource,
    valuesFileSource,
    valuesFromConfig,
    valuesFromExport,
} from "../cli/check-logs/sources";

const REPO = join(__dirname, "..");
const SCRIPT = join(REPO, "cli", "check-logs", "main.ts");

// The planted secrets: an HMAC key (hex, as `openssl rand -hex 32`), a
// service password (letters and digits, as RandomPassword makes them), an
// exchange secret with characters that every encoding changes, and one too
// short to search for.
const HMAC = "3f9a1c0be47d25a8c6f01e9b7d4a2c58e1b09f3d6a7c4e2b8d5f0a1c3e7b9d24";
const PASSWORD = "Qm7tVx2LpR9sKd4WnY8bZc3HfJ6gT1aE";
const API_SECRET = 'Ex/Key+9=&q?z%3D~secret"x';
const SHORT = "abc12";
const VALUES: Record<string, string> = {
    "titan-hmac-g2": HMAC,
    "titan-redis-password-g1": PASSWORD,
    "titan-secrets:exchangeApiSecret": API_SECRET,
    "titan-short": SHORT,
};
/** Text that only the leaking lines hold: the report must never print it. */
const LINE_MARK = "ctx-7f3a91";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const b64url = (s: string | Buffer) => Buffer.from(s).toString("base64url");
const hex = (s: string) => Buffer.from(s, "utf8").toString("hex");

/** Every form of a value the report must never print (computed here, not by the code under test). */
function forbiddenForms(value: string): string[] {
    const forms = [
        value,
        b64(value),
        b64(value).replace(/=+$/, ""),
        b64url(value),
        encodeURIComponent(value),
        hex(value),
        hex(value).toUpperCase(),
        JSON.stringify(value).slice(1, -1),
    ];
    if (/^[0-9a-f]+$/i.test(value)) forms.push(value.toUpperCase(), b64(Buffer.from(value, "hex")), b64url(Buffer.from(value, "hex")));
    return forms;
}

let dir: string;
let valuesFile: string;
/** Everything every run of the command printed. */
const transcript: string[] = [];

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "check-logs-"));
    valuesFile = join(dir, "values.json");
    writeFileSync(valuesFile, JSON.stringify(VALUES));
});
afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
});

function writeLog(name: string, lines: string[]): string {
    const path = join(dir, name);
    writeFileSync(path, lines.join("\n") + "\n");
    return path;
}

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** The command as a child process: node --import tsx cli/check-logs/main.ts (the fastest way to run it). */
function cli(args: string[], opts: { stdin?: string; nodeArgs?: string[] } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--import", "tsx", SCRIPT, ...args], {
            cwd: REPO,
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            transcript.push(stdout, stderr);
            resolve({ code, stdout, stderr });
        });
        child.stdin.end(opts.stdin ?? "");
    });
}

const findings = (stdout: string) => stdout.split("\n").filter((l) => / secret=| unmasked field /.test(l));

describe("encodings", () => {
    it("gives nothing for a value shorter than 8 characters", () => {
        expect(MIN_VALUE_LENGTH).toBe(8);
        expect(needlesFor("1234567")).toEqual([]);
        expect(needlesFor("12345678").length).toBeGreaterThan(0);
    });

    it("base64 cores are the characters fixed by the value at each alignment", () => {
        const v = Buffer.from(PASSWORD);
        for (const prefix of ["", "a", "ab", "abc", "titan:"]) {
            const whole = b64(Buffer.concat([Buffer.from(prefix), v, Buffer.from("tail")]));
            expect(whole).toContain(base64Core(v, (prefix.length % 3) as 0 | 1 | 2));
        }
        // Alignment 0 is a prefix of the value's own encoding, padded or not.
        expect(b64(PASSWORD).startsWith(base64Core(v, 0))).toBe(true);
    });

    it("a hex value also has its bytes' base64; other values do not", () => {
        expect(isHexValue(HMAC)).toBe(true);
        expect(isHexValue(PASSWORD)).toBe(false);
        expect(needlesFor(HMAC).map((n) => n.encoding)).toContain("hex-bytes-base64");
        expect(needlesFor(PASSWORD).map((n) => n.encoding)).not.toContain("hex-bytes-base64");
    });

    it("never repeats a needle", () => {
        for (const v of Object.values(VALUES)) {
            const texts = needlesFor(v).map((n) => n.text);
            expect(new Set(texts).size).toBe(texts.length);
        }
    });
});

describe("matcher", () => {
    const m = compileMatcher(Object.entries(VALUES).map(([name, value]) => ({ name, value })));
    const leaks = (line: string) => m.scanLine(line).leaks.map((l) => `${l.column} ${l.secret} ${l.encoding}`);

    it("lists what it searches for and what it skips", () => {
        expect(m.searched).toEqual(["titan-hmac-g2", "titan-redis-password-g1", "titan-secrets:exchangeApiSecret"]);
        expect(m.tooShort).toEqual(["titan-short"]);
        expect(leaks(`short ${SHORT}`)).toEqual([]);
    });

    it.each([
        ["raw", `key=${PASSWORD}`, 5, "titan-redis-password-g1"],
        ["raw (hex key in upper case)", `k ${HMAC.toUpperCase()}`, 3, "titan-hmac-g2"],
        ["base64 padded", `v ${b64(API_SECRET)}`, 3, "titan-secrets:exchangeApiSecret"],
        ["base64 unpadded", `v ${b64(API_SECRET).replace(/=+$/, "")}`, 3, "titan-secrets:exchangeApiSecret"],
        ["base64url", `v ${b64url(API_SECRET)}`, 3, "titan-secrets:exchangeApiSecret"],
        ["url", `GET /x?k=${encodeURIComponent(API_SECRET)}&y=1`, 10, "titan-secrets:exchangeApiSecret"],
        ["json", `{"k":${JSON.stringify(API_SECRET)}}`, 7, "titan-secrets:exchangeApiSecret"],
        ["hex", `bytes ${hex(PASSWORD)}`, 7, "titan-redis-password-g1"],
        ["hex (upper case)", `bytes ${hex(PASSWORD).toUpperCase()}`, 7, "titan-redis-password-g1"],
        ["hex-bytes-base64", `key ${b64(Buffer.from(HMAC, "hex"))}`, 5, "titan-hmac-g2"],
        ["hex-bytes-base64url", `key ${b64url(Buffer.from(HMAC, "hex"))}`, 5, "titan-hmac-g2"],
    ])("finds %s", (label, line, column, secret) => {
        const encoding = label.replace(/ .*/, "");
        expect(leaks(line)).toEqual([`${column} ${secret} ${encoding}`]);
    });

    it("finds a value inside a longer base64 string, at each alignment", () => {
        // Authorization: Basic base64("titan:" + password): the password starts 6 bytes in.
        const basic = `Authorization: Basic ${b64(`titan:${PASSWORD}`)}`;
        expect(leaks(basic)).toEqual([`30 titan-redis-password-g1 base64`]);
        for (const prefix of ["x", "xy"])
            expect(leaks(`blob ${b64(prefix + PASSWORD + "!")}`).map((l) => l.split(" ")[1])).toEqual(["titan-redis-password-g1"]);
    });

    it("reports the same value twice on one line at both columns", () => {
        const line = `a=${PASSWORD} b=${PASSWORD}`;
        expect(leaks(line)).toEqual([`3 titan-redis-password-g1 raw`, `${3 + PASSWORD.length + 3} titan-redis-password-g1 raw`]);
    });

    it("counts columns in characters (a surrogate pair is one)", () => {
        expect(leaks(`🔑 ${PASSWORD}`)).toEqual([`3 titan-redis-password-g1 raw`]);
    });

    it("keeps DB_PASSWORD= a field even when a secret is named so; ignores only kebab-case secret names", () => {
        const named = compileMatcher([
            { name: "DB_PASSWORD", value: PASSWORD },
            { name: "titan-db-g3", value: HMAC },
        ]);
        expect(named.scanLine("DB_PASSWORD=hunter2xyz").fields).toEqual([{ field: "DB_PASSWORD", masked: false }]);
        expect(named.scanLine("titan-db: stable at generation 3").fields).toEqual([]);
    });

    it("searches each line of a multi-line value (a PEM key)", () => {
        const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        const m2 = compileMatcher([{ name: "tls-key", value: pem }]);
        expect(m2.scanLine("  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC").leaks).toEqual([{ column: 3, secret: "tls-key", encoding: "raw" }]);
        expect(m2.scanLine(`{"key":${JSON.stringify(pem)}}`).leaks.map((l) => l.encoding)).toContain("json");
        expect(m2.scanLine("-----BEGIN PRIVATE KEY-----").leaks).toEqual([]);
    });

    it("reports two names that share one value once, under both names", () => {
        const shared = compileMatcher([
            { name: "b", value: PASSWORD },
            { name: "a", value: PASSWORD },
        ]);
        expect(shared.scanLine(PASSWORD).leaks).toEqual([{ column: 1, secret: "a,b", encoding: "raw" }]);
    });

    it("finds nothing in a clean line and counts [MASKED]", () => {
        const r = m.scanLine("TITAN_HMAC_SECRET_PRIMARY=[MASKED] TITAN_HMAC_KEY_ID=titan-hmac-g2");
        expect(r).toEqual({ leaks: [], fields: [{ field: "TITAN_HMAC_SECRET_PRIMARY", masked: true }], masked: true });
    });

    it("does not take a secret's own name for a field (ledger, annotations)", () => {
        expect(m.scanLine("titan-secrets.io/stages: {titan-redis-password=stable@g1}").fields).toEqual([]);
        expect(m.scanLine("titan-redis-password: not in the ledger -> stable at generation 1").fields).toEqual([]);
    });
});

describe("secret-looking fields", () => {
    it.each([
        ["password=hunter2", "password", false],
        ["user=titan password=[MASKED]", "password", true],
        ['{"apiKey": "[MASKED]", "user": "x"}', "apiKey", true],
        ['{"apiKey":"abc123"}', "apiKey", false],
        ["secret: [MASKED]", "secret", true],
        ["Secret: s3cr3t", "Secret", false],
        ["GET /cb?token=abc&x=1", "token", false],
        ["TITAN_HMAC_SECRET_PRIMARY=[MASKED]", "TITAN_HMAC_SECRET_PRIMARY", true],
        ["TITAN_HMAC_SECRET_SECONDARY=deadbeef", "TITAN_HMAC_SECRET_SECONDARY", false],
        ["x-api-key: k", "x-api-key", false],
        ["Authorization: Bearer [MASKED]", "Authorization", true],
        ["Authorization: Bearer eyJhbGci", "Authorization", false],
        ["run --password=hunter2", "password", false],
        ["db_pass = 'p'", "db_pass", false],
        ["client_secret:[MASKED]", "client_secret", true],
    ])("%s -> %s", (line, field, masked) => {
        expect(secretFields(line)).toEqual([{ field, masked }]);
    });

    it.each([
        "TITAN_HMAC_KEY_ID=titan-hmac-g2",
        "DB_PASSWORD_FILE=/run/secrets/db_password",
        "secretName: titan-hmac-verifiers-g2",
        "usage max_tokens=4096 total_tokens: 12",
        "+  titan-secrets:password:Credential titan-redis-password creating",
        "RegisterResource(random:index/randomPassword:RandomPassword,titan-hmac-g2)",
        "password=",
        '"password": null',
        "secrets: {",
        "a token was refreshed",
    ])("not a secret field: %s", (line) => {
        expect(secretFields(line)).toEqual([]);
    });

    it("names by their last word, after a qualifier", () => {
        expect(isSecretFieldName("NATS_PASSWORD")).toBe(true);
        expect(isSecretFieldName("hmacSecretPrevious")).toBe(true);
        expect(isSecretFieldName("APIKey")).toBe(true);
        expect(isSecretFieldName("signingKey")).toBe(true);
        expect(isSecretFieldName("passwordHash")).toBe(false);
        expect(isSecretFieldName("tokenType")).toBe(false);
        expect(isSecretFieldName("key")).toBe(false);
    });
});

describe("value sources", () => {
    const secret = (v: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(v) });
    // The shape of `pulumi stack export --show-secrets` of this project (fake values).
    const exportDoc = {
        version: 3,
        deployment: {
            manifest: {},
            resources: [
                {
                    urn: "urn:pulumi:dev::titan-secrets::pulumi:pulumi:Stack::titan-secrets-dev",
                    type: "pulumi:pulumi:Stack",
                    outputs: { ledger: {} },
                },
                {
                    urn: "urn:pulumi:dev::titan-secrets::titan-secrets:index:TitanSecrets$titan-secrets:hmac:KeyRing$random:index/randomPassword:RandomPassword::titan-hmac-g2",
                    type: "random:index/randomPassword:RandomPassword",
                    outputs: { id: "none", length: 64, result: secret(HMAC), bcryptHash: secret("$2a$10$notsearched") },
                },
                {
                    urn: "urn:pulumi:dev::titan-secrets::titan-secrets:password:Credential$random:index/randomPassword:RandomPassword::titan-redis-password-g1",
                    type: "random:index/randomPassword:RandomPassword",
                    outputs: { result: secret(PASSWORD) },
                },
                {
                    urn: "urn:pulumi:dev::titan-secrets::kubernetes:core/v1:Secret::titan-hmac-verifiers",
                    type: "kubernetes:core/v1:Secret",
                    outputs: { data: secret({ K: b64(HMAC) }) },
                },
            ],
        },
    };
    const configDoc = {
        "titan-secrets:exchangeApiSecret": { value: API_SECRET, secret: true },
        "titan-secrets:exchange": {
            value: "{}",
            objectValue: { binance: { apiKey: "binance-key-0001", url: "https://api.example" } },
            secret: true,
        },
        "titan-secrets:kubernetes": { value: "{}", objectValue: { namespace: "titan" }, secret: false },
    };

    it("names a resource by its URN's last segment", () => {
        expect(nameFromUrn("urn:pulumi:dev::p::a$b::titan-hmac-g2")).toBe("titan-hmac-g2");
    });

    it("takes every RandomPassword result from a --show-secrets export, and nothing else", () => {
        expect(valuesFromExport(exportDoc)).toEqual([
            { name: "titan-hmac-g2", value: HMAC },
            { name: "titan-redis-password-g1", value: PASSWORD },
        ]);
        expect(valuesFromExport({ version: 3, deployment: { manifest: {} } })).toEqual([]);
    });

    it("refuses an export it cannot take every key from: no deployment, a key resource without its text", () => {
        for (const doc of [{}, { version: 3 }, []])
            expect(() => valuesFromExport(doc)).toThrow("the stack export has no deployment: it is not the output of pulumi stack export");
        const key = exportDoc.deployment.resources[2];
        for (const outputs of [{}, undefined, { result: 12345678901 }, { result: secret(12345678901) }])
            expect(() => valuesFromExport({ deployment: { resources: [{ ...key, outputs }] } })).toThrow(
                "the stack export's titan-redis-password-g1 has no text in its output result: its value cannot be searched for",
            );
    });

    it("refuses an export whose secrets are encrypted", () => {
        const encrypted = {
            deployment: {
                resources: [{ ...exportDoc.deployment.resources[2], outputs: { result: { [SECRET_SIG]: "x", ciphertext: "v1:abc" } } }],
            },
        };
        expect(() => valuesFromExport(encrypted)).toThrow(/--show-secrets/);
    });

    it("takes every config value marked secret, members of structured ones by path", () => {
        expect(valuesFromConfig(configDoc)).toEqual([
            { name: "titan-secrets:exchangeApiSecret", value: API_SECRET },
            { name: "titan-secrets:exchange.binance.apiKey", value: "binance-key-0001" },
            { name: "titan-secrets:exchange.binance.url", value: "https://api.example" },
        ]);
        expect(() => valuesFromConfig({ "titan-secrets:x": { secret: true } })).toThrow(/--show-secrets/);
    });

    it("reads dev through scripts/pulumi.sh and prod through the pulumi on PATH, and says why it cannot", () => {
        const repo = mkdtempSync(join(tmpdir(), "check-logs-repo-"));
        try {
            const calls: string[][] = [];
            const run: Runner = (cmd, args) => {
                calls.push([cmd, ...args]);
                return { status: 0, stdout: JSON.stringify(exportDoc), stderr: "" };
            };
            mkdirSync(join(repo, "scripts"));
            writeFileSync(join(repo, "scripts", "pulumi.sh"), "");
            const env = { PATH: join(repo, "bin") };
            const dev = () => backendFor(repo, "dev", run, undefined, env);
            expect(() => stackExportSource(dev(), "dev").load()).toThrow(/not built.*bash scripts\/setup\.sh.*--values-from FILE/);
            mkdirSync(join(repo, ".engine", "bin"), { recursive: true });
            writeFileSync(join(repo, ".engine", "bin", "pulumi"), "");
            expect(
                stackExportSource(dev(), "dev")
                    .load()
                    .map((v) => v.name),
            ).toEqual(["titan-hmac-g2", "titan-redis-password-g1"]);

            // prod: the operator's own pulumi and login, never the repository's backend.
            const prod = () => backendFor(repo, "prod", run, undefined, env);
            expect(() => stackExportSource(prod(), "prod").load()).toThrow(/no pulumi on PATH.*--values-from FILE/);
            mkdirSync(join(repo, "bin"));
            writeFileSync(join(repo, "bin", "pulumi"), "");
            expect(stackExportSource(prod(), "prod").load()).toHaveLength(2);
            // --backend repo reads prod from the repository's backend instead.
            expect(stackExportSource(backendFor(repo, "prod", run, "repo", env), "prod").load()).toHaveLength(2);
            expect(calls).toEqual([
                ["bash", join(repo, "scripts", "pulumi.sh"), "stack", "export", "--stack", "dev", "--show-secrets"],
                ["pulumi", "stack", "export", "--stack", "prod", "--show-secrets", "--non-interactive"],
                ["bash", join(repo, "scripts", "pulumi.sh"), "stack", "export", "--stack", "prod", "--show-secrets"],
            ]);
            expect(() => backendFor(repo, "prod", run, "cloud", env)).toThrow(/--backend: found "cloud"; allowed: repo .* or login/);
            const failing: Runner = () => ({ status: 255, stdout: "", stderr: "warning: x\nerror: no stack named 'prod' found\n" });
            expect(() => stackExportSource(backendFor(repo, "prod", failing, undefined, env), "prod").load()).toThrow(
                /pulumi stack export --stack prod --show-secrets failed: error: no stack named 'prod' found/,
            );
        } finally {
            rmSync(repo, { recursive: true, force: true });
        }
    });

    it("never quotes a values file that does not parse", () => {
        const bad = join(dir, "bad-values.json");
        writeFileSync(bad, `{"titan-redis-password-g1": "${PASSWORD}", oops`);
        let message = "";
        try {
            valuesFileSource(bad).load();
        } catch (e) {
            expect(e).toBeInstanceOf(SourceError);
            message = (e as Error).message;
        }
        expect(message).toMatch(/not valid JSON/);
        expect(message).not.toContain(PASSWORD.slice(0, 8));
    });

    it("the default sources fail with exit 2 and the way out when the engine is missing", async () => {
        const repo = mkdtempSync(join(tmpdir(), "check-logs-noengine-"));
        mkdirSync(join(repo, "scripts"));
        writeFileSync(join(repo, "scripts", "pulumi.sh"), "");
        const out: string[] = [];
        const err: string[] = [];
        const io: Io = {
            out: (t) => out.push(t),
            err: (t) => err.push(t),
            repo,
            run: () => {
                throw new Error("must not run");
            },
            env: {},
            stdin: Readable.from([]),
            stdinIsTTY: false,
        };
        try {
            expect(await main(["--stack", "dev", valuesFile], io)).toBe(2);
            expect(err.join("")).toMatch(
                /cannot read the state of stack dev from the repository's local backend \(scripts\/pulumi\.sh\): the Pulumi CLI is not built .*--values-from FILE/,
            );
            expect(out.join("")).toBe("");
        } finally {
            rmSync(repo, { recursive: true, force: true });
        }
    });

    it("reads standard input through main() when given no file", async () => {
        const stdin = new PassThrough();
        stdin.end(`x ${PASSWORD}\n`);
        const out: string[] = [];
        const io: Io = {
            out: (t) => out.push(t),
            err: () => undefined,
            repo: REPO,
            run: () => ({ status: 1, stdout: "", stderr: "" }),
            env: {},
            stdin,
            stdinIsTTY: false,
        };
        expect(await main(["--values-from", valuesFile], io)).toBe(1);
        expect(out.join("")).toContain("<stdin>:1:3 secret=titan-redis-password-g1 encoding=raw");
        transcript.push(...out);
    });
});

describe("arguments", () => {
    it("parses options and files", () => {
        const limits = { maxLineChars: DEFAULT_LIMITS.maxLineChars, maxDecompressedBytes: DEFAULT_LIMITS.maxDecompressedBytes };
        expect(parseArgs(["--stack=prod", "--json", "a.log", "-", "--", "--odd-name.log"])).toEqual({
            stack: "prod",
            ...limits,
            json: true,
            help: false,
            files: ["a.log", "-", "--odd-name.log"],
        });
        expect(parseArgs([])).toEqual({ stack: "dev", ...limits, json: false, help: false, files: [] });
        expect(parseArgs(["--max-line-length", "4096", "--max-decompressed-size=2M"])).toMatchObject({
            maxLineChars: 4096,
            maxDecompressedBytes: 2 * 1024 * 1024,
        });
        for (const bad of ["0", "-1", "1.5", "99999999999999999999", "2M"])
            expect(() => parseArgs(["--max-line-length", bad])).toThrow(/--max-line-length: found .*; allowed: a whole number/);
        expect(() => parseArgs(["--max-decompressed-size", "4T"])).toThrow(/which may end in K, M or G/);
        expect(() => parseArgs(["--values-from"])).toThrow(UsageError);
        expect(() => parseArgs(["--nope"])).toThrow(UsageError);
        expect(() => parseArgs(["-", "-"])).toThrow(/only once/);
        expect(() => parseArgs(["--values-from", "a.json", "--values-from=b.json"])).toThrow("--values-from is given twice; give it once");
        expect(() => parseArgs(["--stack", "prod", "--stack", "dev"])).toThrow("--stack is given twice");
        expect(() => parseArgs(["--stack", "prod", "--values-from", "v.json"])).toThrow(
            "--stack cannot go with --values-from: the values come from the file, not from a stack",
        );
        expect(() => parseArgs(["--values-from", "v.json", "--backend=login", "--stack=prod"])).toThrow(
            /^--stack and --backend cannot go with/,
        );
    });
});

describe("check-logs command (child process, real files)", () => {
    it("reports planted raw values, each encoding, and a value twice on one line", async () => {
        const lines = [
            "2026-11-25T10:00:00Z INFO titan-brain started",
            `2026-11-25T10:00:01Z DEBUG ${LINE_MARK} signing with ${HMAC}`,
            `conn ${LINE_MARK} redis auth ${PASSWORD} ok`,
            `b64 ${LINE_MARK} ${b64(API_SECRET)}`,
            `b64url ${LINE_MARK} ${b64url(API_SECRET)}`,
            `url ${LINE_MARK} ${encodeURIComponent(API_SECRET)}`,
            `hex ${LINE_MARK} ${hex(PASSWORD)}`,
            `keyb64 ${LINE_MARK} ${b64(Buffer.from(HMAC, "hex"))}`,
            `twice ${LINE_MARK} ${PASSWORD}|${PASSWORD}`,
            "2026-11-25T10:00:09Z INFO done",
        ];
        const log = writeLog("planted.log", lines);
        const r = await cli(["--values-from", valuesFile, log]);
        expect(r.code).toBe(1);
        // The column (from 1) just after the line's marker and its space.
        const col = (n: number) => lines[n - 1].indexOf(LINE_MARK) + LINE_MARK.length + 2;
        expect(findings(r.stdout)).toEqual([
            `${log}:2:${lines[1].indexOf(HMAC) + 1} secret=titan-hmac-g2 encoding=raw`,
            `${log}:3:${lines[2].indexOf(PASSWORD) + 1} secret=titan-redis-password-g1 encoding=raw`,
            `${log}:4:${col(4)} secret=titan-secrets:exchangeApiSecret encoding=base64`,
            `${log}:5:${col(5)} secret=titan-secrets:exchangeApiSecret encoding=base64url`,
            `${log}:6:${col(6)} secret=titan-secrets:exchangeApiSecret encoding=url`,
            `${log}:7:${col(7)} secret=titan-redis-password-g1 encoding=hex`,
            `${log}:8:${col(8)} secret=titan-hmac-g2 encoding=hex-bytes-base64`,
            `${log}:9:${col(9)} secret=titan-redis-password-g1 encoding=raw`,
            `${log}:9:${col(9) + PASSWORD.length + 1} secret=titan-redis-password-g1 encoding=raw`,
        ]);
        expect(r.stdout.trimEnd().split("\n").pop()).toBe("9 leaks of 3 secrets in 10 lines");
        expect(r.stdout).toContain("not searched for, shorter than 8 characters (too many false positives): titan-short");
        expect(r.stdout).toMatch(/leaked: .*titan-redis-password-g1 \(4\)/);
    });

    it("passes a clean log with [MASKED] markers (exit 0)", async () => {
        const log = writeLog("clean.log", [
            "INFO titan-execution-rs loaded TITAN_HMAC_SECRET_PRIMARY=[MASKED] TITAN_HMAC_KEY_ID=titan-hmac-g2",
            'INFO {"msg":"venue login","apiKey":"[MASKED]","venue":"binance"}',
            "INFO redis connected user=titan password=[MASKED] file=/run/secrets/redis_password",
            "INFO order accepted id=42",
        ]);
        const r = await cli(["--values-from", valuesFile, log]);
        expect(r.code).toBe(0);
        expect(findings(r.stdout)).toEqual([]);
        expect(r.stdout).toContain("masked markers: 3 (lines showing [MASKED])");
        expect(r.stdout).toContain("secret-looking fields: 3, unmasked: 0");
        expect(r.stdout.trimEnd().split("\n").pop()).toBe("0 leaks of 3 secrets in 4 lines");
    });

    it("says when nothing was logged that would need masking", async () => {
        const log = writeLog("plain.log", ["INFO started", "INFO order accepted id=42 key_id=titan-hmac-g2"]);
        const r = await cli(["--values-from", valuesFile, log]);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("nothing was logged that would need masking");
        expect(r.stdout).toContain("masked markers: 0");
    });

    it("reports an unmasked field without its value (exit 1)", async () => {
        const log = writeLog("unmasked.log", [
            "INFO ok [MASKED]",
            `WARN ${LINE_MARK} db login user=titan password=hunter2xyz retrying`,
            'DEBUG {"token": "tok-9b1e77"}',
        ]);
        const r = await cli(["--values-from", valuesFile, log]);
        expect(r.code).toBe(1);
        expect(findings(r.stdout)).toEqual([`${log}:2 unmasked field password`, `${log}:3 unmasked field token`]);
        expect(r.stdout + r.stderr).not.toMatch(/hunter2|tok-9b1e77/);
        expect(r.stdout).toContain("secret-looking fields: 2, unmasked: 2");
        expect(r.stdout.trimEnd().split("\n").pop()).toBe("0 leaks of 3 secrets in 3 lines");
    });

    it("reads standard input, with - or with no file", async () => {
        const input = `one\ntwo ${LINE_MARK} ${b64url(API_SECRET)}\n`;
        for (const args of [["-"], []]) {
            const r = await cli(["--values-from", valuesFile, ...args], { stdin: input });
            expect(r.code).toBe(1);
            expect(findings(r.stdout)).toEqual([
                `<stdin>:2:${5 + LINE_MARK.length + 1} secret=titan-secrets:exchangeApiSecret encoding=base64url`,
            ]);
        }
    });

    it("--json gives the same findings as data, without values", async () => {
        const log = writeLog("json.log", [`a ${LINE_MARK} ${PASSWORD}`, "password=hunter2xyz", "[MASKED]"]);
        const r = await cli(["--json", "--values-from", valuesFile, log]);
        expect(r.code).toBe(1);
        const report = JSON.parse(r.stdout);
        expect(report.leaks).toEqual([
            { file: log, line: 1, column: 4 + LINE_MARK.length, secret: "titan-redis-password-g1", encoding: "raw" },
        ]);
        expect(report.unmaskedFields).toEqual([{ file: log, line: 2, field: "password" }]);
        expect(report.summary).toMatchObject({
            leaks: 1,
            secrets: 3,
            lines: 3,
            maskedMarkers: 1,
            unmaskedFields: 1,
            leakedSecrets: { "titan-redis-password-g1": 1 },
        });
        expect(report.notSearched.secrets).toEqual(["titan-short"]);
        expect(report.summaryLine).toBe("1 leaks of 3 secrets in 3 lines");
        expect(report.exitCode).toBe(1);
    });

    it("exits 2 on a missing file, no values, or a bad option", async () => {
        const missing = await cli(["--values-from", valuesFile, join(dir, "nope.log")]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(/nope\.log: no such file/);

        const empty = join(dir, "empty.json");
        writeFileSync(empty, "{}");
        const none = await cli(["--values-from", empty, writeLog("x.log", ["x"])]);
        expect(none.code).toBe(2);
        expect(none.stderr).toMatch(/no secret values to search for/);

        const short = join(dir, "short.json");
        writeFileSync(short, JSON.stringify({ s: SHORT }));
        const allShort = await cli(["--values-from", short, join(dir, "x.log")]);
        expect(allShort.code).toBe(2);
        expect(allShort.stderr).toMatch(/shorter than 8 characters/);

        const bad = await cli(["--frobnicate"]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/unknown option --frobnicate/);

        const help = await cli(["--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(
            /^Usage: npm run check-logs -- \[--stack S\] \[--backend repo\|login\] \[--values-from FILE\] \[--json\] \[LOGFILE \.\.\. \| -\]/,
        );
    });

    it("streams a large file: 200,000 lines (~80 MB) in a process whose heap is smaller than the file", async () => {
        const path = join(dir, "large.log");
        const out = createWriteStream(path);
        const pad = "x".repeat(380);
        const planted = new Map([
            [1, `${LINE_MARK} ${PASSWORD}`],
            [123_457, `${LINE_MARK} ${b64(API_SECRET)}`],
            [200_000, `${LINE_MARK} ${HMAC}`],
        ]);
        let chunk = "";
        for (let i = 1; i <= 200_000; i++) {
            chunk += `2026-11-25T10:00:00Z INFO line ${i} ${planted.get(i) ?? pad}\n`;
            if (chunk.length > 1 << 20) {
                if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
                chunk = "";
            }
        }
        await new Promise<void>((resolve, reject) => out.end(chunk, () => resolve()).once("error", reject));
        // 32 MB of V8 heap: reading the file whole would need more than twice that.
        const r = await cli(["--values-from", valuesFile, path], { nodeArgs: ["--max-old-space-size=32"] });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(1);
        expect(findings(r.stdout).map((l) => l.slice(path.length + 1))).toEqual([
            `1:${`2026-11-25T10:00:00Z INFO line 1 ${LINE_MARK} `.length + 1} secret=titan-redis-password-g1 encoding=raw`,
            `123457:${`2026-11-25T10:00:00Z INFO line 123457 ${LINE_MARK} `.length + 1} secret=titan-secrets:exchangeApiSecret encoding=base64`,
            `200000:${`2026-11-25T10:00:00Z INFO line 200000 ${LINE_MARK} `.length + 1} secret=titan-hmac-g2 encoding=raw`,
        ]);
        expect(r.stdout.trimEnd().split("\n").pop()).toBe("3 leaks of 3 secrets in 200000 lines");
    });

    // Last: every run above is in the transcript.
    it("never printed a planted value in any encoding, nor a line that held one", () => {
        expect(transcript.length).toBeGreaterThan(10);
        const all = transcript.join("\n");
        for (const [name, value] of Object.entries(VALUES)) {
            for (const form of forbiddenForms(value)) {
                if (form.length >= 4) expect(all.includes(form), `${name}: a form of its value was printed`).toBe(false);
            }
        }
        expect(all).not.toContain(LINE_MARK);
        expect(all).not.toMatch(/hunter2|tok-9b1e77/);
    });
});
