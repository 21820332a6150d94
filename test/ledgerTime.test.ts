// Time and the ledger (class 9 of issue 23): a clock earlier than the
// ledger's last record is refused by the program's model and by rotate; a
// forced retirement is never recorded before its key existed; a ledger field
// this version does not know refuses the row instead of vanishing; rotate
// status shows a secret the stack file dropped mid-overlap as refused.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordingIo } from "./support/rotateIo";
import { parse, stringify } from "yaml";
import { EXIT, main } from "../cli/rotate/cli";
import { ConfigError, Ledger, StackSpec, parseConfig, planRotation, rawConfigFrom, readLedger } from "../model";
import { REPO } from "../harness/stackFiles";

const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

let dir: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "titan-ledger-time-"));
    copyFileSync(join(REPO, "Pulumi.dev.yaml"), join(dir, "Pulumi.dev.yaml"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Config = Record<string, unknown>;
const devConfig = (): Config => (parse(readFileSync(join(REPO, "Pulumi.dev.yaml"), "utf8")) as { config: Config }).config;
const secretsOf = (c: Config) => c["titan-secrets:secrets"] as Record<string, Record<string, unknown>>;
const specOf = (c: Config): StackSpec => parseConfig(rawConfigFrom(c), "dev");
function withHmac(fields: Record<string, unknown>): Config {
    const c = devConfig();
    Object.assign(secretsOf(c)["titan-hmac"], fields);
    return c;
}
/** The message planRotation refuses with, or undefined when it accepts. */
function refusal(c: Config, ledger: Ledger, now: Date): string | undefined {
    try {
        planRotation(specOf(c), ledger, now);
        return undefined;
    } catch (e) {
        if (e instanceof ConfigError) return e.message;
        throw e;
    }
}

/** dev at stable g1 (up at T0), then overlap g2 (up at +1h). */
function overlapLedger(): Ledger {
    const stable = planRotation(specOf(devConfig()), {}, T0).ledger;
    return planRotation(specOf(withHmac({ generation: 2, stage: "overlap" })), stable, hours(1)).ledger;
}

function rotate(argv: string[], ledger: unknown, clock: Date = T0) {
    const path = join(dir, "ledger.json");
    writeFileSync(path, JSON.stringify(ledger));
    const r = recordingIo({ repo: dir, now: () => clock, why: "--ledger is given" });
    const code = main([...argv, "--dir", dir, "--ledger", path], r.io);
    return { code, out: r.out(), err: r.err() };
}

describe("a clock earlier than the ledger", () => {
    it("the program refuses an up whose clock is earlier than the ledger's last record, and says which record", () => {
        const ledger = overlapLedger();
        expect(refusal(withHmac({ generation: 2, stage: "overlap" }), ledger, hours(1))).toBeUndefined();
        const early = refusal(withHmac({ generation: 2, stage: "overlap" }), ledger, hours(0.5));
        expect(early).toContain(
            "titan-secrets:secrets.titan-hmac: found the clock (2026-11-01T00:30:00.000Z) is earlier than the last up's ledger: titan-hmac: overlap at generation 2 applied at 2026-11-01T01:00:00.000Z;",
        );
        expect(early).toContain("allowed: a clock at or after 2026-11-01T01:00:00.000Z");
    });

    it("force never records a retirement before its key existed", () => {
        const ledger = overlapLedger(); // titan-hmac-g2 created at +1h
        // Retiring g1 with force at a clock before +1h: without the clock guard the ledger
        // would say stable g2 applied before key g2 was created.
        const forced = withHmac({ generation: 2, stage: "stable", force: true });
        expect(refusal(forced, ledger, hours(0.5))).toMatch(
            /found the clock \(2026-11-01T00:30:00\.000Z\) is earlier than the last up's ledger/,
        );
        const later = planRotation(specOf(forced), ledger, hours(2)).ledger["titan-hmac"];
        const key = later.keys.find((k) => k.generation === 2)!;
        expect(Date.parse(later.stageAppliedAt)).toBeGreaterThanOrEqual(Date.parse(key.createdAt));
        expect(later.forced?.guards).toEqual(["minOverlapHours"]);
    });

    it("rotate refuses it too, for --now and for the machine's clock, in every command", () => {
        const ledger = overlapLedger();
        for (const argv of [["status"], ["plan"], ["advance", "titan-hmac"]]) {
            const r = rotate([...argv, "--now", hours(0.5).toISOString()], ledger, hours(5));
            expect(r.code, argv.join(" ")).toBe(EXIT.refused);
            expect(r.err).toContain(
                "rotate: refused: the clock (2026-11-01T00:30:00.000Z) is earlier than the last up's ledger: titan-hmac: overlap at generation 2 applied at 2026-11-01T01:00:00.000Z. rotate refuses a clock earlier than what the ledger records: give --now at or after that time",
            );
        }
        const machine = rotate(["status"], ledger, hours(0.5));
        expect(machine.code).toBe(EXIT.refused);
        expect(machine.err).toContain("set this machine's clock right");
        expect(rotate(["status"], ledger, hours(1)).code).toBe(EXIT.ok);
    });
});

describe("a row that says a stage was applied before its key existed", () => {
    it("is not read (the program never writes one): the secret does not move until a person looks", () => {
        const ledger = overlapLedger();
        const row = ledger["titan-hmac"];
        const backdated = { ...row, stageAppliedAt: hours(0.5).toISOString() }; // key g2 created at +1h
        const read = readLedger({ ...ledger, "titan-hmac": backdated });
        expect(read.unreadable.get("titan-hmac")).toBe(
            "stageAppliedAt: overlap at generation 2 applied at 2026-11-01T00:30:00.000Z, before its key titan-hmac-g2 was created (2026-11-01T01:00:00.000Z): a stage is never applied before its key existed",
        );
        expect(readLedger({ ...ledger, "titan-hmac": { ...row, stageAppliedAt: hours(1).toISOString() } }).unreadable.size).toBe(0);
    });

    it("nor one whose presenters' key is not among its keys: its age and due date could not be read (it showed as never overdue)", () => {
        const ledger = overlapLedger();
        const row = { ...ledger["titan-hmac"], presenterKeyId: "titan-hmac-g9" };
        expect(readLedger({ ...ledger, "titan-hmac": row }).unreadable.get("titan-hmac")).toBe(
            "presenterKeyId: the presenters' key titan-hmac-g9 is not among the row's keys (titan-hmac-g2, titan-hmac-g1), so the secret's age and due date cannot be read",
        );
        const stale = { ...ledger["titan-redis-password"], presenterKeyId: "titan-redis-password-g9" };
        const status = rotate(["status", "--check"], { ...ledger, "titan-redis-password": stale }, hours(24 * 400));
        expect(status.code).toBe(EXIT.cannotRead);
        expect(status.out).not.toContain("Overdue: none");
    });
});

describe("ledger fields this version does not know", () => {
    it("refuse the row (named, with the field), at any depth, instead of being dropped", () => {
        const ledger = overlapLedger();
        const row = ledger["titan-hmac"] as unknown as Record<string, unknown>;
        const read = readLedger({ ...ledger, "titan-hmac": { ...row, holdUntil: "2026-12-01T00:00:00Z" } });
        expect(read.ledger["titan-hmac"]).toBeUndefined();
        expect(read.unreadable.get("titan-hmac")).toBe(
            'the row: field "holdUntil" that this version does not know (written by a newer version or by hand; refused rather than dropped)',
        );
        expect(read.ledger["titan-redis-password"]).toEqual(ledger["titan-redis-password"]); // the other rows are read
        const keys = (row.keys as Record<string, unknown>[]).map((k, i) => (i === 0 ? { ...k, revokedAt: "x" } : k));
        expect(readLedger({ "titan-hmac": { ...row, keys } }).unreadable.get("titan-hmac")).toMatch(
            /^keys\.0: field "revokedAt" that this version does not know/,
        );
        const guard = { ...(row.guard as object), minimumSoakHours: 48 };
        expect(readLedger({ "titan-hmac": { ...row, guard } }).unreadable.get("titan-hmac")).toMatch(/^guard: field "minimumSoakHours"/);
        // A cluster of a fleet's row named __proto__ (a JSON key, as the state holds it) is refused, not dropped by the record.
        const clusters = JSON.parse('{"__proto__": {"verifiers": [1], "presenters": [1], "stage": "stable", "generation": 1}}') as unknown;
        expect(readLedger({ "titan-hmac": { ...row, clusters } }).unreadable.get("titan-hmac")).toMatch(
            /^clusters\.__proto__: any name but __proto__, constructor, prototype/,
        );
        // A hand-edited key ID outside the program's charset (a line break would forge a line of rotate's output).
        const forged = { ...row, presenterKeyId: "titan-hmac-g2\nwarning: none overdue" };
        expect(readLedger({ "titan-hmac": forged }).unreadable.get("titan-hmac")).toMatch(
            /^presenterKeyId: a key ID of 1 to 63 ASCII letters/,
        );
        // A row whose keys are not what its fields name: read, the next row would find no key of its
        // generation and record one as created now (its age, and whether it is overdue, restarting).
        const keysOf = row.keys as Record<string, unknown>[];
        const inconsistent: [Record<string, unknown>, RegExp][] = [
            [
                { ...row, keys: keysOf.map((k) => (k.generation === 2 ? { ...k, generation: 7 } : k)) },
                /^keys: no key of generation 2, the row's own generation/,
            ],
            [{ ...row, keys: [...keysOf, { ...keysOf[0], keyId: "titan-hmac-g2-2" }] }, /^keys\.2: a second key of generation \d/],
            [
                { ...row, verifierKeyIds: ["titan-hmac-g2", "titan-hmac-g0"] },
                /^verifierKeyIds: titan-hmac-g0, which is not the key ID of any of the row's keys$/,
            ],
        ];
        for (const [bad, why] of inconsistent) expect(readLedger({ "titan-hmac": bad }).unreadable.get("titan-hmac")).toMatch(why);
        // The program then moves nothing until a person looks (or acknowledges with force).
        expect(() => planRotation(specOf(withHmac({ generation: 2, stage: "stable" })), read.ledger, hours(30), read.unreadable)).toThrow(
            /a row of the last up's ledger that cannot be read \(the row: field "holdUntil"/,
        );
        // What this version writes, it reads back whole.
        expect(readLedger(JSON.parse(JSON.stringify(ledger))).unreadable.size).toBe(0);
    });
});

describe("a new key's key ID against the ledger", () => {
    it("never takes one a key of another secret had, retired or live (compared ignoring case); its own recorded keys are checkTransition's", () => {
        const ledger = overlapLedger();
        ledger["titan-hmac"] = { ...ledger["titan-hmac"], retiredKeyIds: ["hmac-2025"] };
        const withExtra = (keyId: string) => {
            const c = devConfig();
            secretsOf(c)["extra-hmac"] = { ...secretsOf(c)["titan-hmac"], generation: 1, stage: "stable", envPrefix: "EXTRA", keyId };
            Object.assign(secretsOf(c)["titan-hmac"], { generation: 2, stage: "overlap" });
            return c;
        };
        expect(refusal(withExtra("HMAC-2025"), ledger, hours(2))).toBe(
            'Invalid stack config. titan-secrets:secrets.extra-hmac.keyId: found "HMAC-2025" for the new key of generation 1, the key ID of a key of secret "titan-hmac" (retired: "hmac-2025", compared ignoring case); allowed: a key ID that no key of another secret ever had (verifiers and logs name a key by it). Fix: pulumi config set --path \'secrets.extra-hmac.keyId\' extra-hmac-g1',
        );
        ledger["titan-hmac"].keys[0] = { ...ledger["titan-hmac"].keys[0], keyId: "hmac-live" };
        ledger["titan-hmac"].presenterKeyId = "hmac-live";
        expect(refusal(withExtra("hmac-live"), ledger, hours(2))).toMatch(
            /extra-hmac\.keyId: found "hmac-live" .* \(live at the last up: "hmac-live"/,
        );
        expect(refusal(withExtra("hmac-2026"), { ...ledger, "titan-hmac": overlapLedger()["titan-hmac"] }, hours(2))).toBeUndefined();
    });
});

describe("rotate status: a secret the stack file dropped", () => {
    function fileWithout(secret: string, removeSecrets?: string[]): void {
        const c = devConfig();
        delete secretsOf(c)[secret];
        if (removeSecrets) c["titan-secrets:removeSecrets"] = removeSecrets;
        writeFileSync(join(dir, "Pulumi.dev.yaml"), stringify({ config: c }));
    }

    it("mid-overlap: shown as refused with the program's reason (never left out); --check exits 1", () => {
        const ledger = overlapLedger();
        fileWithout("titan-hmac", ["titan-hmac"]);
        const r = rotate(["status", "--json"], ledger, hours(2));
        expect(r.code).toBe(EXIT.ok);
        const report = JSON.parse(r.out);
        const row = report.secrets.find((s: { secret: string }) => s.secret === "titan-hmac");
        expect(row).toMatchObject({ removed: true, config: null, applied: { stage: "overlap", generation: 2 } });
        expect(row.refused).toContain(
            "titan-secrets:secrets.titan-hmac: found its removal while it is overlap at generation 2, with two keys live",
        );
        expect(report.refused).toEqual(["titan-hmac"]);
        const text = rotate(["status"], ledger, hours(2));
        expect(text.out).toContain("titan-hmac (hmac)\n  stage:    overlap at generation 2");
        expect(text.out).toContain(
            "  config:   (not in the stack file: removed)\n  REFUSED:  titan-secrets:secrets.titan-hmac: found its removal while it is overlap",
        );
        expect(text.out).toContain("Refused at the next up: titan-hmac\n");
        expect(rotate(["status", "--check"], ledger, hours(2)).code).toBe(EXIT.refused);
    });

    it("dropped without removeSecrets: refused; announced from stable: shown, not refused", () => {
        const stable = planRotation(specOf(devConfig()), {}, T0).ledger;
        fileWithout("titan-nats-password");
        const unannounced = JSON.parse(rotate(["status", "--json"], stable, hours(2)).out);
        expect(unannounced.refused).toEqual(["titan-nats-password"]);
        fileWithout("titan-nats-password", ["titan-nats-password"]);
        const announced = rotate(["status", "--json", "--check"], stable, hours(2));
        expect(announced.code).toBe(EXIT.ok);
        const row = JSON.parse(announced.out).secrets.find((s: { secret: string }) => s.secret === "titan-nats-password");
        expect(row).toMatchObject({ removed: true });
        expect(row.refused).toBeUndefined();
    });
});
