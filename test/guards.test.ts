// Guards that no edit of the stack file gets around: each test is a mistake
// a hurried engineer could make, refused (or made explicit) by the model,
// with nothing declared before the refusal.

import { describe, expect, it } from "vitest";
import { ConfigError, Ledger, LedgerEntry, RawConfig, parseConfig, planRotation, readLedger } from "../model";
import { hmac, titanConfig } from "./support/fleet";

const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

function plan(raw: RawConfig, previous: Ledger = {}, now = T0, unreadable: Map<string, string> = new Map()) {
    return planRotation(parseConfig(raw), previous, now, unreadable);
}
const refusal = (f: () => unknown): string => {
    try {
        f();
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
    }
    throw new Error("not refused");
};

/** The ledger after applying each config in turn. */
function applied(...steps: [RawConfig, Date][]): Ledger {
    let ledger: Ledger = {};
    for (const [raw, now] of steps) ledger = plan(raw, ledger, now).ledger;
    return ledger;
}

describe("3. guards hold to what was in force when the overlap was applied", () => {
    const overlap = () => applied([titanConfig({ k: hmac(1, "stable") }), T0], [titanConfig({ k: hmac(2, "overlap") }), hours(1)]);

    it("lowering minOverlapHours in the change that retires the secondary does not lift the wait", () => {
        const message = refusal(() => plan(titanConfig({ k: hmac(2, "stable", { minOverlapHours: 0 }) }), overlap(), hours(2)));
        expect(message).toContain(
            "when minOverlapHours (24, as in force when the overlap was applied (the config now says 0)) have passed",
        );
    });

    it("force lifts it, and the ledger and the plan say so", () => {
        const p = plan(titanConfig({ k: hmac(2, "stable", { force: true }) }), overlap(), hours(2));
        expect(p.ledger.k.forced).toEqual({ at: hours(2).toISOString(), guards: ["minOverlapHours"] });
        expect(p.warnings.join("\n")).toMatch(/^FORCED k: stable at generation 2 passed minOverlapHours/m);
    });

    it("a value too large for the date arithmetic is refused as config, not a crash", () => {
        expect(refusal(() => plan(titanConfig({ k: hmac(1, "stable", { maxAgeDays: 100000000 }) })))).toContain(
            "titan-secrets:secrets.k.maxAgeDays: found 100000000; allowed: a number <= 3650.",
        );
        expect(refusal(() => plan(titanConfig({ k: hmac(1, "stable", { minOverlapHours: 1e12 }) })))).toContain(
            "allowed: a number <= 8760",
        );
    });
});

describe("3. an API key's verification cannot be removed in the change that moves it to stable", () => {
    const keys = { kind: "apiKey", exchange: "bybit", verifiers: [], presenters: ["titan-execution-rs"] };
    const verification = { image: "x", command: ["verify"] };
    it("is refused until verified, or forced", () => {
        const ledger = applied(
            [titanConfig({ b: { ...keys, generation: 1, stage: "stable", verification } }), T0],
            [titanConfig({ b: { ...keys, generation: 2, stage: "overlap", verification } }), hours(1)],
        );
        const message = refusal(() => plan(titanConfig({ b: { ...keys, generation: 2, stage: "stable" } }), ledger, hours(30)));
        expect(message).toContain("verification was required when the overlap was applied; removing it from the config does not lift that");
        expect(
            plan(titanConfig({ b: { ...keys, generation: 2, stage: "stable", force: true } }), ledger, hours(30)).ledger.b.forced?.guards,
        ).toEqual(["verification"]);
    });
});

describe("7. a ledger that cannot be read fails closed", () => {
    const good = () => applied([titanConfig({ k: hmac(1, "stable"), other: hmac(1, "stable", { envPrefix: "OTHER" }) }), T0]);

    it("a date that is not a date makes that row unreadable, not 'first seen' (which would drop the overlap guard)", () => {
        const raw = JSON.parse(JSON.stringify(good())) as Record<string, Record<string, unknown>>;
        raw.k.stageAppliedAt = "yesterday";
        const read = readLedger(raw);
        expect([...read.unreadable.keys()]).toEqual(["k"]);
        expect(read.unreadable.get("k")).toMatch(/stageAppliedAt/);
        const message = refusal(() =>
            plan(
                titanConfig({ k: hmac(2, "overlap"), other: hmac(1, "stable", { envPrefix: "OTHER" }) }),
                read.ledger,
                hours(1),
                read.unreadable,
            ),
        );
        expect(message).toContain(
            "titan-secrets:secrets.k: found a row of the last up's ledger that cannot be read (stageAppliedAt: Invalid ISO datetime)",
        );
        expect(message).not.toContain("secrets.other");
    });

    it("force acknowledges it for one up, and the ledger records that", () => {
        const read = readLedger({ ...good(), k: { ...good().k, dueAt: "soon" } });
        const p = plan(
            titanConfig({ k: hmac(1, "stable", { force: true }), other: hmac(1, "stable", { envPrefix: "OTHER" }) }),
            read.ledger,
            hours(1),
            read.unreadable,
        );
        expect(p.ledger.k.forced?.guards).toEqual(["unreadable ledger row"]);
    });

    it("a ledger row named constructor or __proto__ is a row like any other (the config refuses such names: names.test.ts)", () => {
        expect(refusal(() => plan(titanConfig({ constructor: hmac(1, "stable") })))).toContain(
            'titan-secrets:secrets.constructor: found the name "constructor"',
        );
        // No row for a secret the ledger never had, whatever its name.
        const none = plan(titanConfig({ k: hmac(1, "stable") }), readLedger(JSON.parse('{"constructor": {"kind": "hmac"}}')).ledger, T0);
        expect(none.secrets[0].previous).toBeUndefined();
        const read = readLedger(JSON.parse('{"__proto__": {"kind": "hmac"}}'));
        expect([...read.unreadable.keys()]).toEqual(["__proto__"]);
        expect(Object.getPrototypeOf(read.ledger)).toBeNull();
    });
});

describe("2. removing a secret is an announced, reviewed step", () => {
    const two = () => titanConfig({ k: hmac(1, "stable"), old: hmac(3, "stable", { envPrefix: "OLD", presenters: ["titan-ai-quant"] }) });
    const ledger = () => applied([two(), T0]);

    it("deleting it from secrets alone is refused, naming its consumers and the command", () => {
        const message = refusal(() => plan(titanConfig({ k: hmac(1, "stable") }), ledger(), hours(1)));
        expect(message).toContain(
            "titan-secrets:secrets.old: found nothing, but the last up applied stable at generation 3 (verifiers titan-execution-rs, titan-sentinel; presenters titan-ai-quant)",
        );
        expect(message).toContain("Fix: pulumi config set --path 'removeSecrets[0]' old");
    });

    it("announced, it rolls presenters first, then verifiers, and says so; its ledger row goes", () => {
        const p = plan({ ...titanConfig({ k: hmac(1, "stable") }), removeSecrets: ["old"] }, ledger(), hours(1));
        expect(p.waves).toEqual([["titan-ai-quant"], ["titan-execution-rs", "titan-sentinel"]]);
        expect(p.workloads.find((w) => w.service.name === "titan-sentinel")!.dependsOnDirect).toEqual(["titan-ai-quant"]);
        expect(p.summary.join("\n")).toContain(
            "old: REMOVED (was stable at generation 3). Presenters stop using it first: titan-ai-quant (wave 1). Then verifiers stop accepting it: titan-execution-rs (wave 2), titan-sentinel (wave 2).",
        );
        expect(Object.keys(p.ledger)).toEqual(["k"]);
    });

    it("is refused in the middle of a rotation", () => {
        const inOverlap = applied(
            [two(), T0],
            [
                titanConfig({ k: hmac(1, "stable"), old: hmac(4, "overlap", { envPrefix: "OLD", presenters: ["titan-ai-quant"] }) }),
                hours(1),
            ],
        );
        expect(refusal(() => plan({ ...titanConfig({ k: hmac(1, "stable") }), removeSecrets: ["old"] }, inOverlap, hours(2)))).toContain(
            "found its removal while it is overlap at generation 4, with two keys live",
        );
    });

    it("a row from before consumers were recorded cannot be removed blind", () => {
        const old = ledger();
        const row: Partial<LedgerEntry> = { ...old.old };
        delete row.verifiers;
        delete row.presenters;
        expect(
            refusal(() =>
                plan({ ...titanConfig({ k: hmac(1, "stable") }), removeSecrets: ["old"] }, { ...old, old: row as LedgerEntry }, hours(1)),
            ),
        ).toContain("the last ledger row does not record its consumers");
    });

    it("listing a secret that is still declared is refused", () => {
        expect(refusal(() => parseConfig({ ...two(), removeSecrets: ["old"] }))).toContain(
            'titan-secrets:removeSecrets[0]: found "old", which is still declared under titan-secrets:secrets',
        );
    });
});

describe("8. whatever rolls is in the plan", () => {
    it("a consumer added to a stable secret restarts, and the plan says so", () => {
        const ledger = applied([titanConfig({ k: hmac(1, "stable") }), T0]);
        const p = plan(titanConfig({ k: hmac(1, "stable", { presenters: ["titan-brain", "titan-ai-quant"] }) }), ledger, hours(1));
        expect(p.workloads.filter((w) => w.changed).map((w) => w.service.name)).toEqual(["titan-ai-quant"]);
        expect(p.summary.join("\n")).toMatch(
            /Presenters to g1: titan-ai-quant \(wave 1\)\. Not restarted: titan-brain, titan-execution-rs, titan-sentinel\./,
        );
    });

    it("a consumer taken off restarts too", () => {
        const ledger = applied([titanConfig({ k: hmac(1, "stable", { presenters: ["titan-brain", "titan-ai-quant"] }) }), T0]);
        const p = plan(titanConfig({ k: hmac(1, "stable") }), ledger, hours(1));
        expect(p.workloads.filter((w) => w.changed).map((w) => w.service.name)).toEqual(["titan-ai-quant"]);
        expect(p.summary.join("\n")).toContain("No longer consuming it: titan-ai-quant (wave 1).");
    });
});

describe("9. smaller holes", () => {
    it("compromised at the live generation from stable (it would keep the leaked key) is not a step", () => {
        const ledger = applied([titanConfig({ k: hmac(2, "stable") }), T0]);
        expect(refusal(() => plan(titanConfig({ k: hmac(2, "compromised", { incident: "INC-1" }) }), ledger, hours(1)))).toContain(
            "found compromised at generation 2, but the last applied stage is stable at generation 2; allowed: stable at generation 2 (no change), or one step: overlap at generation 3; compromised at generation 3.",
        );
    });

    it("a generation number that comes back after a revert does not reuse the retired key's ID", () => {
        const ledger = applied(
            [titanConfig({ k: hmac(2, "stable") }), T0],
            [titanConfig({ k: hmac(3, "overlap") }), hours(1)],
            [titanConfig({ k: hmac(3, "revert") }), hours(2)],
            [titanConfig({ k: hmac(2, "stable") }), hours(3)],
        );
        expect(ledger.k.retiredKeyIds).toEqual(["k-g3"]);
        expect(refusal(() => plan(titanConfig({ k: hmac(3, "overlap") }), ledger, hours(4)))).toContain(
            "titan-secrets:secrets.k.keyId: found \"k-g3\" for the new key of generation 3, but that key ID named a key that has been retired; allowed: a key ID that no key of this secret ever had (verifiers and logs name a key by it). Fix: pulumi config set --path 'secrets.k.keyId' k-g3-2",
        );
        const p = plan(titanConfig({ k: hmac(3, "overlap", { keyId: "k-g3-2", previousKeyId: "k-g2" }) }), ledger, hours(4));
        expect(p.ledger.k.verifierKeyIds).toEqual(["k-g3-2", "k-g2"]);
    });
});
