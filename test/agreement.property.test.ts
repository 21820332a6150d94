// `rotate` and the program must refuse exactly the same configs. Property:
// for random stack files (an API key at a random generation and stage, its
// exchange keys present or not, secure or in plain text) and random ledgers
// (a real earlier up, sometimes with a row that does not parse), `rotate
// plan` refuses if and only if the program under mocks refuses, with the same
// message; and whatever `rotate advance` writes, the program accepts.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingIo } from "./support/rotateIo";
import { parse, parseDocument } from "yaml";
import { EXIT, main } from "../cli/rotate/cli";
import { Ledger, STAGES, parseConfig, planRotation, rawConfigFrom } from "../model";
import { REPO } from "../harness/stackFiles";
import { runProgram } from "./support/mocks";

const SECRET = "bybit-lab";
const T0 = new Date("2026-10-01T00:00:00Z");
const HOUR = 3_600_000;

let dir: string;
beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "titan-agree-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
    generation: number;
    stage: (typeof STAGES)[number];
    /** Exchange-key fields present per generation, as "g<N>/<field>". */
    fields: string[];
    secure: boolean;
    /** The earlier up: the API key's stage then, and how many hours ago. */
    before?: { generation: number; stage: "stable" | "overlap"; hoursAgo: number; verified: boolean };
    corruptRow: boolean;
    unchanged: boolean;
}

const FIELDS = [1, 2, 3].flatMap((g) => [`g${g}/apiKey`, `g${g}/apiSecret`]);

const caseArb: fc.Arbitrary<Case> = fc
    .record({
        generation: fc.integer({ min: 1, max: 3 }),
        stage: fc.constantFrom(...STAGES),
        // Mostly every field (so the other checks are reached), sometimes a random few.
        fields: fc.oneof({ arbitrary: fc.constant(FIELDS), weight: 3 }, { arbitrary: fc.subarray(FIELDS), weight: 2 }),
        secure: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
        before: fc.option(
            fc.record({
                generation: fc.integer({ min: 1, max: 3 }),
                stage: fc.constantFrom("stable" as const, "overlap" as const),
                hoursAgo: fc.integer({ min: 0, max: 200 }),
                verified: fc.boolean(),
            }),
            { nil: undefined },
        ),
        corruptRow: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
        /** The config still says what the ledger says (the state before a `rotate advance`). */
        unchanged: fc.boolean(),
    })
    .map((c) => {
        if (!c.unchanged || !c.before) return c;
        const generation = c.before.stage === "overlap" ? Math.max(2, c.before.generation) : c.before.generation;
        return { ...c, generation, stage: c.before.stage };
    });

/** The dev stack file with the API key and its exchange keys set as the case says. */
function stackText(c: { generation: number; stage: string; fields: string[]; secure: boolean }): string {
    const doc = parseDocument(readFileSync(join(REPO, "Pulumi.dev.yaml"), "utf8"));
    const at = (...k: string[]) => ["config", "titan-secrets:secrets", SECRET, ...k];
    doc.setIn(at("generation"), c.generation);
    doc.setIn(at("stage"), c.stage);
    if (c.stage === "compromised") doc.setIn(at("incident"), "INC-1");
    const keys: Record<string, Record<string, unknown>> = {};
    for (const f of c.fields) {
        const [g, field] = f.split("/");
        keys[g] ??= {};
        keys[g][field] = c.secure ? { secure: "v1:AAAA:BBBB" } : `plain-${f}`;
    }
    doc.deleteIn(["config", "titan-secrets:exchangeKeys"]);
    if (c.fields.length > 0) doc.setIn(["config", "titan-secrets:exchangeKeys"], doc.createNode({ [SECRET]: keys }));
    return doc.toString();
}

/** What the engine hands the program for this file: plain values, the secure ones marked secret. */
function programConfig(text: string): { raw: Record<string, unknown>; secretKeys: string[] } {
    const config = (parse(text) as { config: Record<string, unknown> }).config;
    const raw: Record<string, unknown> = { ...rawConfigFrom({ ...config, "titan-secrets:exchangeKeys": undefined }) };
    const keys = config["titan-secrets:exchangeKeys"];
    let secure = false;
    const decrypt = (v: unknown): unknown => {
        if (v && typeof v === "object" && "secure" in v) {
            secure = true;
            return "decrypted-value";
        }
        return v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decrypt(x)])) : v;
    };
    if (keys !== undefined) raw.exchangeKeys = decrypt(keys);
    return { raw, secretKeys: secure ? ["exchangeKeys"] : [] };
}

/** The ledger an up of the earlier state left (as the program writes it), maybe with its row broken. */
function ledgerOf(c: Case): Ledger {
    if (!c.before) return {};
    // overlap needs a generation >= 2 (it keeps the one before it live)
    const b = { ...c.before, generation: c.before.stage === "overlap" ? Math.max(2, c.before.generation) : c.before.generation };
    const text = stackText({ generation: b.generation, stage: b.stage, fields: [], secure: true });
    const when = new Date(T0.getTime() - b.hoursAgo * HOUR);
    const spec = parseConfig(rawConfigFrom((parse(text) as { config: Record<string, unknown> }).config), "dev");
    const ledger = planRotation(spec, {}, when).ledger;
    if (b.verified && b.stage === "overlap")
        ledger[SECRET] = { ...ledger[SECRET], verified: { generation: b.generation, at: when.toISOString() } };
    if (c.corruptRow) (ledger[SECRET] as unknown as Record<string, unknown>).stageAppliedAt = "last tuesday";
    return ledger;
}

function rotate(args: string[]): { code: number; out: string; err: string } {
    const r = recordingIo({ repo: REPO, now: () => T0, why: "--ledger is given" });
    const code = main(args, r.io);
    return { code, out: r.out(), err: r.err() };
}

async function programRefusal(text: string, ledger: Ledger): Promise<string | undefined> {
    const { raw, secretKeys } = programConfig(text);
    const run = await runProgram(raw, ledger, T0, true, { secretKeys });
    return run.error?.message;
}

describe("rotate and the program refuse the same configs", () => {
    it("the property holds over random API-key stages, exchange keys and ledgers", { timeout: 600_000 }, async () => {
        let refusedBoth = 0;
        let acceptedBoth = 0;
        await fc.assert(
            fc.asyncProperty(caseArb, async (c) => {
                const file = join(dir, "Pulumi.dev.yaml");
                const text = stackText(c);
                writeFileSync(file, text);
                const ledgerPath = join(dir, "ledger.json");
                const ledger = ledgerOf(c);
                writeFileSync(ledgerPath, JSON.stringify(ledger));

                const plan = rotate(["plan", "--file", file, "--ledger", ledgerPath, "--now", T0.toISOString(), "--json"]);
                const report = JSON.parse(plan.out) as {
                    refused?: boolean;
                    refusal?: { message: string };
                    cannotRead?: boolean;
                    error?: string;
                };
                const program = await programRefusal(text, JSON.parse(readFileSync(ledgerPath, "utf8")));
                // A ledger row rotate cannot read stops it with exit 4 (cannotRead) where the program refuses the up.
                const refused = report.refused === true || report.cannotRead === true;
                expect(refused, `rotate: ${report.refusal?.message ?? report.error}\nprogram: ${program}`).toBe(program !== undefined);
                if (program !== undefined) {
                    if (report.cannotRead) {
                        expect(plan.code).toBe(EXIT.cannotRead);
                        expect(program).toContain("a row of the last up's ledger that cannot be read");
                    } else expect(program).toContain(report.refusal!.message);
                    refusedBoth++;
                } else acceptedBoth++;

                // Whatever advance writes, the program accepts.
                copyFileSync(file, join(dir, "before.yaml"));
                const advance = rotate(["advance", SECRET, "--file", file, "--ledger", ledgerPath, "--now", T0.toISOString()]);
                if (advance.code === EXIT.ok) {
                    expect(await programRefusal(readFileSync(file, "utf8"), ledger), advance.out).toBeUndefined();
                } else {
                    expect(readFileSync(file, "utf8")).toBe(readFileSync(join(dir, "before.yaml"), "utf8"));
                }
            }),
            { numRuns: 60, seed: 20261126 },
        );
        // Both sides of the property were exercised.
        expect(refusedBoth).toBeGreaterThan(5);
        expect(acceptedBoth).toBeGreaterThan(2);
    });

    it("advance refuses an API key's next generation whose exchange keys are not set, as the program would", () => {
        const file = join(dir, "Pulumi.dev.yaml");
        writeFileSync(file, stackText({ generation: 1, stage: "stable", fields: ["g1/apiKey", "g1/apiSecret"], secure: true }));
        const before = readFileSync(file, "utf8");
        const r = rotate(["advance", SECRET, "--file", file, "--no-ledger", "--now", T0.toISOString()]);
        expect(r.code).toBe(EXIT.refused);
        expect(r.err).toContain("titan-secrets:exchangeKeys.bybit-lab.g2.apiKey: found nothing");
        expect(readFileSync(file, "utf8")).toBe(before);
    });
});
