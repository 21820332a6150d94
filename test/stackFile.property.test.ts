// Property tests of rotate's stack file edits (cli/rotate/stackFile.ts,
// editGuards.ts) over random stack files: comments, anchors and aliases
// (a shared generation, stage, list or whole secret, a value used outside
// the secrets), merge keys, flow style, quoted keys, a byte order mark, CRLF
// line endings, several secrets. For every file and every edit command,
// either the edit is refused with a clear message and the file is left as
// it was, or the secrets whose parsed config differ before/after are
// exactly the one the report names, nothing outside
// `titan-secrets:secrets.<secret>` changed, and the byte order mark and
// line endings are the file's. The files are read back here with yaml's
// own `parse` (merge keys as Pulumi's go-yaml reads them), not with the
// module under test.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingIo } from "./support/rotateIo";
import { parse, parseDocument } from "yaml";
import { EXIT, main } from "../cli/rotate/cli";
import { LayoutError, SecretEdit, StackFileError, applyEdits, parseStackFile } from "../cli/rotate/stackFile";
import { REPO } from "../harness/stackFiles";

const T0 = new Date("2026-11-01T00:00:00Z");
const NAMES = ["alpha", "beta", "gamma", "delta"];
const STAGES = ["stable", "overlap", "revert", "compromised"] as const;

type Quote = "plain" | "single" | "double";
/** How a secret reuses an earlier one's nodes (by index), if it does. */
type Share =
    | { kind: "none" }
    | { kind: "generation" | "stage" | "verifiers" | "whole"; from: number }
    | { kind: "merge"; from: number; generation: number };

interface SecretShape {
    generation: number;
    stage: (typeof STAGES)[number];
    share: Share;
    flow: boolean;
    blockLists: boolean;
    nameQuote: Quote;
    keyQuote: Quote;
    stageQuote: Quote;
    comment: boolean;
}

interface FileShape {
    secrets: SecretShape[];
    indent: 2 | 4;
    secretsKeyQuote: Quote;
    bom: boolean;
    crlf: boolean;
    headerComment: boolean;
    /** Flow collections spaced as yaml writes them (`{ a: 1 }`, `[ x ]`), so more files read back byte for byte. */
    yamlSpacing: boolean;
    /** A service's replicas is an alias of this secret's generation (a value used outside the secrets). */
    replicasFrom?: number;
}

const quoteArb = fc.constantFrom<Quote>("plain", "plain", "single", "double");

const secretArb = (i: number): fc.Arbitrary<SecretShape> =>
    fc.record({
        generation: fc.integer({ min: 1, max: 3 }),
        stage: fc.constantFrom(...STAGES),
        share:
            i === 0
                ? fc.constant<Share>({ kind: "none" })
                : fc.oneof(
                      { arbitrary: fc.constant<Share>({ kind: "none" }), weight: 4 },
                      {
                          arbitrary: fc.record({
                              kind: fc.constantFrom("generation" as const, "stage" as const, "verifiers" as const, "whole" as const),
                              from: fc.integer({ min: 0, max: i - 1 }),
                          }),
                          weight: 4,
                      },
                      {
                          arbitrary: fc.record({
                              kind: fc.constant("merge" as const),
                              from: fc.integer({ min: 0, max: i - 1 }),
                              generation: fc.integer({ min: 1, max: 3 }),
                          }),
                          weight: 1,
                      },
                  ),
        flow: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
        blockLists: fc.boolean(),
        nameQuote: quoteArb,
        keyQuote: quoteArb,
        stageQuote: quoteArb,
        comment: fc.boolean(),
    });

/**
 * A shape the program mostly accepts: overlap and revert keep the generation
 * before theirs (so they start at 2), and a secret reuses only one that
 * writes its own nodes (an alias needs its anchor).
 */
function normalize(f: FileShape): FileShape {
    const secrets = f.secrets.map((s) => ({
        ...s,
        generation: s.stage === "overlap" || s.stage === "revert" ? Math.max(2, s.generation) : s.generation,
    }));
    for (const s of secrets) {
        if (s.share.kind === "none") continue;
        const from = secrets[s.share.from];
        if (from.share.kind !== "none") s.share = { kind: "none" };
        else if (s.share.kind === "stage") [s.stage, s.generation] = [from.stage, Math.max(s.generation, from.generation)];
        else if (s.share.kind === "generation") {
            s.generation = from.generation;
            if (s.generation === 1 && (s.stage === "overlap" || s.stage === "revert")) s.stage = "stable";
        }
    }
    const replicasFrom = f.replicasFrom !== undefined && secrets[f.replicasFrom].share.kind === "none" ? f.replicasFrom : undefined;
    return { ...f, secrets, replicasFrom };
}

const fileArb: fc.Arbitrary<FileShape> = fc.integer({ min: 2, max: 4 }).chain((n) =>
    fc
        .record({
            secrets: fc.tuple(...Array.from({ length: n }, (_, i) => secretArb(i))),
            indent: fc.constantFrom<2 | 4>(2, 4),
            secretsKeyQuote: quoteArb,
            bom: fc.boolean(),
            crlf: fc.boolean(),
            headerComment: fc.boolean(),
            yamlSpacing: fc.boolean(),
            replicasFrom: fc.option(fc.integer({ min: 0, max: n - 1 }), { nil: undefined }),
        })
        .map(normalize),
);

const q = (s: string, how: Quote) => (how === "single" ? `'${s}'` : how === "double" ? `"${s}"` : s);

/** The anchors a file needs: every node a later secret (or the services) reuses. */
function anchorsOf(f: FileShape): Set<string> {
    const used = new Set<string>();
    f.secrets.forEach((s) => {
        if (s.share.kind === "none") return;
        const kind = s.share.kind === "merge" ? "whole" : s.share.kind;
        used.add(`${kind}${s.share.from}`);
    });
    if (f.replicasFrom !== undefined) used.add(`generation${f.replicasFrom}`);
    return used;
}

/** The stack file's text for a shape. */
function render(f: FileShape): string {
    const I = " ".repeat(f.indent);
    const anchors = anchorsOf(f);
    const anchor = (kind: string, i: number) => (anchors.has(`${kind}${i}`) ? `&${kind[0]}${i} ` : "");
    const lines: string[] = [];
    if (f.headerComment) lines.push("# a stack file, written by hand");
    lines.push("config:");
    lines.push(`${I}titan-secrets:kubernetes:`, `${I}${I}renderDir: rendered # where manifests go`);
    lines.push(`${I}${q("titan-secrets:secrets", f.secretsKeyQuote)}:`);
    f.secrets.forEach((s, i) => {
        const name = q(NAMES[i], s.nameQuote);
        const key = (k: string) => q(k, s.keyQuote);
        if (s.comment) lines.push(`${I}${I}# ${NAMES[i]}: rotated by hand`);
        if (s.share.kind === "whole") {
            lines.push(`${I}${I}${name}: *w${s.share.from}`);
            return;
        }
        const generation = s.share.kind === "generation" ? `*g${s.share.from}` : `${anchor("generation", i)}${s.generation}`;
        const stage = s.share.kind === "stage" ? `*s${s.share.from}` : `${anchor("stage", i)}${q(s.stage, s.stageQuote)}`;
        const list = (xs: string[]) => (f.yamlSpacing ? `[ ${xs.join(", ")} ]` : `[${xs.join(", ")}]`);
        const verifiers = s.share.kind === "verifiers" ? `*v${s.share.from}` : `${anchor("verifiers", i)}${list(["svc-a"])}`;
        const fields: [string, string][] =
            s.share.kind === "merge"
                ? [
                      ["<<", `*w${s.share.from}`],
                      ["envPrefix", `TITAN_${NAMES[i].toUpperCase()}`],
                      ["generation", String(s.share.generation)],
                  ]
                : [
                      ["kind", "hmac"],
                      ["envPrefix", `TITAN_${NAMES[i].toUpperCase()}`],
                      ["generation", generation],
                      ["stage", stage],
                      ["verifiers", verifiers],
                      ["presenters", list(["svc-b"])],
                      ...(s.stage === "compromised" ? ([["incident", "INC-1"]] as [string, string][]) : []),
                  ];
        const whole = anchor("whole", i);
        if (s.flow) {
            const inner = fields.map(([k, v]) => `${k === "<<" ? k : key(k)}: ${v}`).join(", ");
            lines.push(`${I}${I}${name}: ${whole}${f.yamlSpacing ? `{ ${inner} }` : `{${inner}}`}`);
            return;
        }
        lines.push(`${I}${I}${name}:${whole ? ` ${whole.trimEnd()}` : ""}${s.comment ? " # keep" : ""}`);
        for (const [k, v] of fields) {
            const shown = k === "<<" ? k : key(k);
            if (s.blockLists && v === list(["svc-b"])) lines.push(`${I}${I}${I}${shown}:`, `${I}${I}${I}${I}- svc-b`);
            else lines.push(`${I}${I}${I}${shown}: ${v}${s.comment && k === "stage" ? " # the stage" : ""}`);
        }
    });
    lines.push(`${I}titan-secrets:services:`);
    lines.push(`${I}${I}svc-a:`, `${I}${I}${I}image: example/a:1`);
    if (f.replicasFrom !== undefined) lines.push(`${I}${I}${I}replicas: *g${f.replicasFrom}`);
    lines.push(`${I}${I}svc-b: ${f.yamlSpacing ? '{ image: "example/b:1" }' : '{image: "example/b:1"}'}`, "");
    const text = lines.join("\n");
    return (f.bom ? "\uFEFF" : "") + (f.crlf ? text.replace(/\n/g, "\r\n") : text);
}

type Data = Record<string, unknown>;

/** The file's data as Pulumi reads it, independently of the module under test. */
const dataOf = (text: string) => parse(text.replace(/^\uFEFF/, ""), { merge: true }) as Data;
const secretsOf = (d: Data) => ((d.config as Data | undefined)?.["titan-secrets:secrets"] ?? {}) as Data;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What the property forbids, for an edit of `secret` from `before` to
 * `after`: another secret changed, anything outside the secrets changed, the
 * byte order mark lost or added, line endings mixed.
 */
function violations(before: string, after: string, secret: string | undefined): string[] {
    const out: string[] = [];
    const [b, a] = [dataOf(before), dataOf(after)];
    const [sb, sa] = [secretsOf(b), secretsOf(a)];
    const changed = [...new Set([...Object.keys(sb), ...Object.keys(sa)])].filter((k) => !same(sb[k], sa[k]));
    const others = changed.filter((k) => k !== secret);
    if (others.length > 0) out.push(`secrets changed besides ${secret ?? "none"}: ${others.join(", ")}`);
    const strip = (d: Data) => ({ ...d, config: { ...(d.config as Data), "titan-secrets:secrets": Object.keys(secretsOf(d)) } });
    if (!same(strip(b), strip(a))) out.push("config outside titan-secrets:secrets changed");
    if (before.startsWith("\uFEFF") !== after.startsWith("\uFEFF")) out.push("byte order mark lost or added");
    const crlf = (t: string) => /\r\n/.test(t);
    const lf = (t: string) => /(^|[^\r])\n/.test(t);
    if ((crlf(after) && !crlf(before)) || (lf(after) && !lf(before))) out.push("line endings mixed");
    return out;
}

let dir: string;
beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "titan-stackfile-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rotate(args: string[]): { code: number; out: string; err: string } {
    const r = recordingIo({ repo: REPO, now: () => T0, why: "--no-ledger is given" });
    return { code: main(args, r.io), out: r.out(), err: r.err() };
}

const commandArb = fc.record({
    command: fc.constantFrom("advance", "advance", "revert", "compromise"),
    secret: fc.nat(),
});

describe("an edit does exactly what it reports", () => {
    it("rotate advance / revert / compromise over random stack files", { timeout: 600_000 }, () => {
        const seen = {
            edited: 0,
            editedNextToAliases: 0,
            editedBomCrlf: 0,
            editedFlowSecret: 0,
            sharedRefused: 0,
            mergeRefused: 0,
            refused: 0,
        };
        fc.assert(
            fc.property(fileArb, commandArb, (f, c) => {
                const text = render(f);
                const path = join(dir, "Pulumi.dev.yaml");
                writeFileSync(path, text);
                const secret = NAMES[c.secret % f.secrets.length];
                const args = [c.command, secret, "--file", path, "--no-ledger", "--now", T0.toISOString(), "--json"];
                const r = rotate(c.command === "compromise" ? [...args, "--incident", "INC-9"] : args);
                const after = readFileSync(path, "utf8");
                const said = `${r.out}${r.err}`;
                expect(said, text).not.toMatch(/ReferenceError|TypeError|\n\s+at /);
                if (r.code !== EXIT.ok) {
                    // Refused: a known exit code, a message, and the file as it was.
                    expect([EXIT.refused, EXIT.usage, EXIT.cannotEdit], said).toContain(r.code);
                    expect(said.trim().length).toBeGreaterThan(0);
                    expect(after).toBe(text);
                    if (said.includes("is shared through the YAML anchor")) seen.sharedRefused++;
                    else if (said.includes("merge key (<<)")) seen.mergeRefused++;
                    else seen.refused++;
                    return;
                }
                const report = JSON.parse(r.out) as { secret: string; written: boolean };
                expect(report.secret).toBe(secret);
                expect(report.written).toBe(true);
                expect(violations(text, after, report.secret), `${text}\n---\n${after}`).toEqual([]);
                // The named secret did change (the report names no secret the edit left alone).
                expect(same(secretsOf(dataOf(text))[secret], secretsOf(dataOf(after))[secret])).toBe(false);
                seen.edited++;
                if (text.includes("*")) seen.editedNextToAliases++;
                if (f.bom && f.crlf) seen.editedBomCrlf++;
                if (f.secrets[c.secret % f.secrets.length].flow) seen.editedFlowSecret++;
            }),
            { numRuns: 250, seed: 20261205 },
        );
        // Every side of the property was exercised.
        expect(seen.edited).toBeGreaterThan(30);
        expect(seen.editedNextToAliases).toBeGreaterThan(20);
        expect(seen.editedBomCrlf).toBeGreaterThan(5);
        expect(seen.editedFlowSecret).toBeGreaterThan(2);
        expect(seen.sharedRefused).toBeGreaterThan(30);
        expect(seen.mergeRefused).toBeGreaterThan(3);
        expect(seen.refused).toBeGreaterThan(30);
    });

    it("applyEdits (also what rotate run writes) with random edits: refused, or exactly the edits", () => {
        const editArb = fc.array(
            fc.record({
                key: fc.constantFrom("generation", "stage", "incident", "force", "keyId", "verifiers"),
                value: fc.option(fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom("stable", "overlap", "INC 2", "yes", "x: y")), {
                    nil: undefined,
                }),
            }),
            { minLength: 1, maxLength: 4 },
        );
        let edited = 0;
        let refused = 0;
        fc.assert(
            fc.property(fileArb, fc.nat(), editArb, (f, i, raw) => {
                const text = render(f);
                const secret = NAMES[i % f.secrets.length];
                const keys = new Set<string>();
                const edits: SecretEdit[] = raw
                    .filter((e) => !keys.has(e.key) && keys.add(e.key))
                    .map((e) => ({ secret, key: e.key, value: e.value }));
                let out: string;
                try {
                    out = applyEdits(parseStackFile("Pulumi.dev.yaml", text), edits);
                } catch (e) {
                    expect(e instanceof LayoutError || e instanceof StackFileError, String(e)).toBe(true);
                    expect((e as Error).message).toMatch(/^Pulumi\.dev\.yaml: /);
                    refused++;
                    return;
                }
                expect(violations(text, out, secret), `${text}\n---\n${out}`).toEqual([]);
                const expected = { ...(secretsOf(dataOf(text))[secret] as Data) };
                for (const e of edits) {
                    if (e.value === undefined) delete expected[e.key];
                    else expected[e.key] = e.value;
                }
                const got = secretsOf(dataOf(out))[secret] as Data;
                expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
                for (const k of Object.keys(expected)) expect(got[k]).toEqual(expected[k]);
                edited++;
            }),
            { numRuns: 400, seed: 5122026 },
        );
        expect(edited).toBeGreaterThan(60);
        expect(refused).toBeGreaterThan(60);
    });

    it("the property's check does catch what the Document API alone wrote (both secrets moved, one reported)", () => {
        const f: FileShape = {
            secrets: [
                { ...plain, generation: 1, stage: "stable" },
                { ...plain, generation: 1, stage: "stable", share: { kind: "generation", from: 0 } },
            ],
            indent: 2,
            secretsKeyQuote: "plain",
            bom: false,
            crlf: false,
            headerComment: false,
            yamlSpacing: false,
        };
        const text = render(f);
        const doc = parseDocument(text, { merge: true });
        doc.setIn(["config", "titan-secrets:secrets", "alpha", "generation"], 2);
        expect(violations(text, doc.toString(), "alpha")).toEqual(["secrets changed besides alpha: beta"]);
        // ... and the encodings a byte-range edit could get wrong.
        const crlf = "\uFEFF" + text.replace(/\n/g, "\r\n");
        expect(violations(crlf, crlf.slice(1), "alpha")).toEqual(["byte order mark lost or added"]);
        expect(violations(crlf, crlf.replace("\r\n", "\n"), "alpha")).toEqual(["line endings mixed"]);
        expect(violations(text, text.replace("rendered", "other"), "alpha")).toEqual(["config outside titan-secrets:secrets changed"]);
    });
});

const plain: SecretShape = {
    generation: 1,
    stage: "stable",
    share: { kind: "none" },
    flow: false,
    blockLists: false,
    nameQuote: "plain",
    keyQuote: "plain",
    stageQuote: "plain",
    comment: false,
};
