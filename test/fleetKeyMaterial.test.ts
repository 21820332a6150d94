// A workload stack's keys, as its key stack's secret `keyMaterial` output
// gives them (model/keyRingMaterial.ts, components/fleet.ts): checked before
// any resource is declared, refused with the key stack, the secret, the
// generation and the fix, and never with a value in the message.

import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { HEX_KEY_ARGS } from "../components/hmacKeyRing";
import { ConfigError, ConfigIssue, HMAC_KEY, HMAC_KEY_BYTES, SecretSpec, parseConfig, readKeyMaterial } from "../model";
import { TITAN_SERVICES, hmac, titanConfig } from "./support/fleet";
import { T, byType, isWireSecret, one, reveal, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const key = (label: string) => createHash("sha256").update(`fleet-key:${label}`).digest("hex");
const K1 = key("g1");
const K2 = key("g2");

/** The secrets a cluster consumes: titan-hmac at (generation, stage), as the key ring declares it. */
const consumed = (generation: number, stage: string): SecretSpec[] => [
    ...parseConfig(titanConfig({ "titan-hmac": hmac(generation, stage) })).secrets.values(),
];

const secretOutput = (value: unknown) => ({ value, secret: true });

/** The issues of a refused read (fails the test when it was accepted). */
function refused(value: unknown, secrets = consumed(2, "overlap"), secret = true): ConfigIssue[] {
    const read = readKeyMaterial({ value, secret }, "keys", secrets);
    if (!("issues" in read)) throw new Error("accepted");
    expect(read.issues.length).toBeGreaterThan(0);
    return read.issues;
}

/** The whole message of a refusal, as the up prints it. */
const messageOf = (issues: ConfigIssue[]) => new ConfigError(issues).message;

describe("readKeyMaterial: a key for every live generation of every consumed secret, each a key", () => {
    it("hands on the key of each live generation (overlap at g2: g2 and g1)", () => {
        const read = readKeyMaterial(secretOutput({ "titan-hmac": { g2: K2, g1: K1 } }), "keys", consumed(2, "overlap"));
        expect("keys" in read && [...read.keys.get("titan-hmac")!]).toEqual([
            [2, K2],
            [1, K1],
        ]);
    });

    it("a key stack with no keyMaterial (never up'd; or unknown in a preview) is refused, telling to run it first", () => {
        for (const value of [undefined, null]) {
            const [issue] = refused(value);
            expect(issue.key).toBe("titan-secrets:fleet.keyRing");
            expect(issue.found).toMatch(/^"keys", which exports no keyMaterial output/);
            expect(issue.fix).toMatch(/^run pulumi up -s keys first/);
        }
    });

    it("a secret the output has no keys for, and a missing generation, are each named with the stage that makes it live", () => {
        expect(refused({ other: { g1: K1 } }).map((i) => i.found)).toEqual([
            '"keys", whose keyMaterial output has no keys for titan-hmac (the key ring holds overlap at generation 2, live: g2, g1)',
        ]);
        const issues = refused({ "titan-hmac": { g2: K2 } });
        expect(issues.map((i) => i.found)).toEqual([
            '"keys", whose keyMaterial output has no key for titan-hmac generation 1 (the key ring holds overlap at generation 2, live: g2, g1)',
        ]);
        expect(messageOf(issues)).toBe(
            "Invalid stack config. titan-secrets:fleet.keyRing: found " +
                issues[0].found +
                `; allowed: a key of ${HMAC_KEY_BYTES * 2} lower-case hex digits, the shape the key ring makes (openssl rand -hex 32) for each live generation of titan-hmac. ` +
                "Fix: run pulumi up -s keys first (the key stack makes the key of every live generation and exports them)",
        );
    });

    it("a value that is not a key is refused by its shape, never printed", () => {
        const notKeys = [
            K1.toUpperCase(),
            K1.slice(1),
            `${K1}0`,
            Buffer.from(K1, "hex").toString("base64"),
            `${K1.slice(0, 63)}g`,
            "hunter2",
        ];
        for (const bad of notKeys) {
            const issues = refused({ "titan-hmac": { g2: bad, g1: K1 } });
            expect(issues.map((i) => i.found)).toEqual([
                `"keys", whose keyMaterial output for titan-hmac generation 2 is not a key: a ${bad.length}-character string (the key ring holds overlap at generation 2, live: g2, g1)`,
            ]);
            expect(messageOf(issues)).not.toContain(bad);
        }
        for (const [bad, shape] of [
            [42, "a number"],
            [{ value: K2 }, "an object"],
            ["", "an empty string"],
            [null, "null"],
        ] as const) {
            const issues = refused({ "titan-hmac": { g2: bad, g1: K1 } });
            expect(issues[0].found).toContain(`generation 2 is not a key: ${shape} (`);
            expect(messageOf(issues)).not.toContain(K2);
        }
    });

    it("one key under two generations is refused (no rotation), naming both, never the key", () => {
        const issues = refused({ "titan-hmac": { g2: K1, g1: K1 } });
        expect(issues.map((i) => i.found)).toEqual([
            '"keys", whose keyMaterial output for titan-hmac generation 1 is the same key as for titan-hmac generation 2',
        ]);
        expect(messageOf(issues)).not.toContain(K1);
    });

    it("an output that is not a map of secrets is refused by its shape", () => {
        expect(refused([K1, K2])[0].found).toBe('"keys", whose keyMaterial output is a list, not a map of secrets');
        const issues = refused(K2);
        expect(issues[0].found).toBe('"keys", whose keyMaterial output is a 64-character string, not a map of secrets');
        expect(messageOf(issues)).not.toContain(K2);
        expect(refused({ "titan-hmac": [K2, K1] })[0].found).toContain("has a list for titan-hmac");
    });

    it("a key of a generation that is not live is refused (the key ring's two outputs disagree); a name that is no generation is counted, not shown", () => {
        expect(refused({ "titan-hmac": { g2: K2, g1: K1 } }, consumed(2, "stable")).map((i) => i.found)).toEqual([
            '"keys", whose keyMaterial output for titan-hmac also holds g1, which is not live (the key ring holds stable at generation 2, live: g2): its keyRing and keyMaterial outputs disagree',
        ]);
        const issues = refused({ "titan-hmac": { g2: K2, g1: K1, [K1]: "g1" } });
        expect(issues[0].found).toContain("also holds 1 entry not named g<generation>, which is not live");
        expect(messageOf(issues)).not.toContain(K1);
    });

    it("a keyMaterial output that is not a Pulumi secret is refused: its keys were in plain text", () => {
        const [issue] = refused({ "titan-hmac": { g2: K2, g1: K1 } }, consumed(2, "overlap"), false);
        expect(issue.found).toBe(
            '"keys", whose keyMaterial output is not a Pulumi secret: its keys are in plain text in that stack\'s state and outputs',
        );
        expect(issue.fix).toContain("set the stage of each secret in keys to compromised");
    });

    it("a cluster that consumes nothing needs no key", () => {
        expect(readKeyMaterial({ value: undefined, secret: false }, "keys", [])).toEqual({ keys: new Map() });
    });

    it("the shape checked is the shape the key ring generates (components/hmacKeyRing.ts HEX_KEY_ARGS)", () => {
        const charset = [
            ...(HEX_KEY_ARGS.numeric ? "0123456789" : ""),
            ...(HEX_KEY_ARGS.lower ? "abcdefghijklmnopqrstuvwxyz" : ""),
            ...(HEX_KEY_ARGS.upper ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ" : ""),
            ...(HEX_KEY_ARGS.special ? String(HEX_KEY_ARGS.overrideSpecial) : ""),
        ];
        expect(HEX_KEY_ARGS.length).toBe(HMAC_KEY_BYTES * 2);
        for (const c of charset) expect(HMAC_KEY.test(c.repeat(HMAC_KEY_BYTES * 2)), c).toBe(true);
        expect(HMAC_KEY.test("A".repeat(HMAC_KEY_BYTES * 2))).toBe(false);
    });
});

describe("a workload stack's program: the keys are checked before any resource is declared", () => {
    const CLUSTER = {
        fleet: { role: "workloads", keyRing: "keys" },
        kubernetes: { namespace: "titan", renderDir: "rendered" },
        services: { "titan-execution-rs": TITAN_SERVICES["titan-execution-rs"], "titan-brain": TITAN_SERVICES["titan-brain"] },
        consumers: { "titan-hmac": { verifiers: ["titan-execution-rs"], presenters: ["titan-brain"] } },
    };
    const keyRing = { clusters: ["dev"], secrets: { "titan-hmac": { kind: "hmac", generation: 2, stage: "overlap", minOverlapHours: 0 } } };
    const run = (keyMaterial: unknown, secret = true, preview = false) =>
        runProgram(CLUSTER as never, {}, T0, preview, {
            stacks: { keys: { outputs: { keyRing, keyMaterial }, secretOutputNames: secret ? ["keyMaterial"] : [] } },
        });

    it("good keys: each role's Secret object carries the key ring's keys, as secrets; nothing is generated here", async () => {
        const r = await run({ "titan-hmac": { g2: K2, g1: K1 } });
        expect(r.error).toBeUndefined();
        const verifiers = one(r, T.secret, "titan-hmac-verifiers").inputs.stringData;
        expect(isWireSecret(verifiers)).toBe(true);
        expect(reveal(verifiers)).toMatchObject({ TITAN_HMAC_SECRET_PRIMARY: K2, TITAN_HMAC_SECRET_SECONDARY: K1 });
        expect(byType(r, T.randomPassword)).toEqual([]);
    });

    it("a preview checks the same keys (the key stack's last up): good ones pass, none is refused", async () => {
        expect((await run({ "titan-hmac": { g2: K2, g1: K1 } }, true, true)).error).toBeUndefined();
        const r = await run(undefined, true, true);
        expect(r.error).toBeInstanceOf(pulumi.RunError);
        expect(r.error!.message).toContain('titan-secrets:fleet.keyRing: found "keys", which exports no keyMaterial output');
        expect(new Set(r.resources.map((x) => x.type))).toEqual(new Set(["pulumi:pulumi:StackReference"]));
    });

    for (const [what, material, secret, expected] of [
        ["a missing generation", { "titan-hmac": { g2: K2 } }, true, "has no key for titan-hmac generation 1"],
        ["a value that is not a key", { "titan-hmac": { g2: K2.toUpperCase(), g1: K1 } }, true, "for titan-hmac generation 2 is not a key"],
        ["no keyMaterial at all", undefined, true, "which exports no keyMaterial output"],
        ["a plain keyMaterial", { "titan-hmac": { g2: K2, g1: K1 } }, false, "is not a Pulumi secret"],
    ] as const) {
        it(`${what}: a RunError naming the key stack and the fix, no value, and no resource but the stack reads`, async () => {
            const r = await run(material, secret);
            expect(r.error).toBeInstanceOf(pulumi.RunError);
            expect(r.error!.message).toContain(`titan-secrets:fleet.keyRing: found "keys", `);
            expect(r.error!.message).toContain(expected);
            expect(r.error!.message).toMatch(/Fix: .*pulumi up -s keys first/);
            for (const k of [K1, K2, K2.toUpperCase()]) expect(r.error!.message).not.toContain(k);
            expect(r.resources.length).toBeGreaterThan(0);
            expect(new Set(r.resources.map((x) => x.type))).toEqual(new Set(["pulumi:pulumi:StackReference"]));
        });
    }
});
