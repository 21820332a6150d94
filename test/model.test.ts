// The pure model: views per stage, legal steps, the overlap guard, edges,
// cycles, waves and the ledger. No Pulumi here.

import { describe, expect, it } from "vitest";
import { ConfigError, Ledger, checkAcyclic, nextSteps, parseConfig, planRotation, specView, viewOf } from "../model";
import { hmac, titanConfig } from "./support/fleet";

const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

function plan(secrets: Record<string, Record<string, unknown>>, previous: Ledger = {}, now = T0) {
    return planRotation(parseConfig(titanConfig(secrets)), previous, now);
}

/** Applies a sequence of (config, time) steps, feeding each ledger to the next. */
function sequence(steps: [Record<string, Record<string, unknown>>, Date][]) {
    let ledger: Ledger = {};
    return steps.map(([secrets, now]) => {
        const p = plan(secrets, ledger, now);
        ledger = p.ledger;
        return p;
    });
}

describe("views of each stage", () => {
    const ids = (g: number) => `k-g${g}`;
    it("stable holds one generation everywhere", () => {
        expect(viewOf({ generation: 3, stage: "stable" }, ids)).toEqual({
            verifier: { generations: [3], keyIds: ["k-g3"] },
            presenter: { generations: [3], keyIds: ["k-g3"] },
            live: [3],
        });
    });
    it("overlap: verifiers accept N and N-1, presenters use N", () => {
        const v = viewOf({ generation: 2, stage: "overlap" }, ids);
        expect(v.verifier.generations).toEqual([2, 1]);
        expect(v.presenter.generations).toEqual([2]);
        expect(v.live).toEqual([2, 1]);
    });
    it("revert: presenters go back to N-1, verifiers keep exactly their overlap view", () => {
        const o = viewOf({ generation: 2, stage: "overlap" }, ids);
        const r = viewOf({ generation: 2, stage: "revert" }, ids);
        expect(r.presenter.generations).toEqual([1]);
        expect(r.verifier).toEqual(o.verifier);
    });
    it("compromised holds only the named generation", () => {
        expect(viewOf({ generation: 4, stage: "compromised" }, ids).live).toEqual([4]);
    });
    it("uses declared key IDs", () => {
        const spec = parseConfig(titanConfig({ k: hmac(2, "overlap", { keyId: "brain-b", previousKeyId: "brain-a" }) })).secrets.get("k")!;
        expect(specView(spec).verifier.keyIds).toEqual(["brain-b", "brain-a"]);
    });
});

describe("legal steps", () => {
    it("from stable N: overlap N+1 or an emergency at N+1 (compromised N would keep the leaked key)", () => {
        expect(nextSteps({ generation: 1, stage: "stable" })).toEqual([
            { stage: "overlap", generation: 2 },
            { stage: "compromised", generation: 2 },
        ]);
    });

    it("from overlap N: stable N, revert N, or an emergency", () => {
        const steps = nextSteps({ generation: 2, stage: "overlap" }).map((s) => `${s.stage}@${s.generation}`);
        expect(steps).toEqual(["stable@2", "revert@2", "compromised@3", "compromised@2", "compromised@1"]);
    });
    it("from revert N: stable N-1 or overlap N again", () => {
        const steps = nextSteps({ generation: 2, stage: "revert" }).map((s) => `${s.stage}@${s.generation}`);
        expect(steps.slice(0, 2)).toEqual(["stable@1", "overlap@2"]);
    });
});

describe("transitions against the ledger", () => {
    it("refuses skipping a generation, listing the legal steps", () => {
        const [first] = sequence([[{ k: hmac(1, "stable") }, T0]]);
        expect(() => plan({ k: hmac(3, "overlap") }, first.ledger, hours(1))).toThrow(
            /titan-secrets:secrets\.k\.stage: found overlap at generation 3, but the last applied stage is stable at generation 1; allowed: .*overlap at generation 2/,
        );
    });
    it("refuses stable N+1 straight from stable N", () => {
        const [first] = sequence([[{ k: hmac(1, "stable") }, T0]]);
        expect(() => plan({ k: hmac(2, "stable") }, first.ledger, hours(1))).toThrow(
            /found stable at generation 2, but the last applied stage is stable at generation 1/,
        );
    });
    it("overlap guard: refuses stable before minOverlapHours, names the time and the override", () => {
        const [, overlap] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(1)],
        ]);
        let message = "";
        try {
            plan({ k: hmac(2, "stable") }, overlap.ledger, hours(24));
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toContain(
            "titan-secrets:secrets.k.stage: found stable at generation 2 only 23h 0m after overlap at generation 2 was applied (2026-11-01T01:00:00.000Z)",
        );
        expect(message).toContain("from 2026-11-02T01:00:00.000Z on");
        expect(message).toContain("pulumi config set --path 'secrets.k.force' true");
    });
    it("overlap guard: allows stable once minOverlapHours have passed, or with force", () => {
        const [, overlap] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(1)],
        ]);
        expect(plan({ k: hmac(2, "stable") }, overlap.ledger, hours(25)).ledger.k.stage).toBe("stable");
        expect(plan({ k: hmac(2, "stable", { force: true }) }, overlap.ledger, hours(2)).ledger.k.stage).toBe("stable");
        // A shorter minimum declared when the overlap was applied holds.
        const [, short] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap", { minOverlapHours: 1 }) }, hours(1)],
        ]);
        expect(plan({ k: hmac(2, "stable", { minOverlapHours: 1 }) }, short.ledger, hours(2)).ledger.k.stage).toBe("stable");
    });
    it("a live generation keeps its key ID", () => {
        const [first] = sequence([[{ k: hmac(1, "stable", { keyId: "brain-a" }) }, T0]]);
        expect(() => plan({ k: hmac(2, "overlap") }, first.ledger, hours(1))).toThrow(
            /secrets\.k\.previousKeyId: found "k-g1" for generation 1, which is live with key ID "brain-a"/,
        );
        expect(plan({ k: hmac(2, "overlap", { previousKeyId: "brain-a" }) }, first.ledger, hours(1)).ledger.k.verifierKeyIds).toEqual([
            "k-g2",
            "brain-a",
        ]);
    });
    it("refuses a change of kind", () => {
        const [first] = sequence([[{ k: hmac(1, "stable") }, T0]]);
        const ledger = { k: { ...first.ledger.k, kind: "apiKey" as never } };
        expect(() => plan({ k: hmac(1, "stable") }, ledger, hours(1))).toThrow(
            /secrets\.k\.kind: found "hmac", but the ledger records "apiKey"/,
        );
    });
});

describe("ledger", () => {
    it("keeps stageAppliedAt and key creation times while nothing moves", () => {
        const [a, b] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(1, "stable") }, hours(5)],
        ]);
        expect(b.ledger).toEqual(a.ledger);
    });
    it("records the overlap time, carries g2's birth through stable, and dates the due day from it", () => {
        const [, overlap, stable] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(10)],
            [{ k: hmac(2, "stable") }, hours(40)],
        ]);
        expect(overlap.ledger.k).toMatchObject({
            stage: "overlap",
            stageAppliedAt: hours(10).toISOString(),
            presenterKeyId: "k-g2",
            verifierKeyIds: ["k-g2", "k-g1"],
        });
        expect(stable.ledger.k.stageAppliedAt).toBe(hours(40).toISOString());
        expect(stable.ledger.k.keys).toEqual([{ generation: 2, keyId: "k-g2", createdAt: hours(10).toISOString() }]);
        expect(stable.ledger.k.dueAt).toBe(new Date(hours(10).getTime() + 90 * 86_400_000).toISOString());
    });
    it("after a revert the due date is the old generation's again", () => {
        const [, , revert] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(10)],
            [{ k: hmac(2, "revert") }, hours(11)],
        ]);
        expect(revert.ledger.k.presenterKeyId).toBe("k-g1");
        expect(revert.ledger.k.dueAt).toBe(new Date(T0.getTime() + 90 * 86_400_000).toISOString());
    });
    it("warns when a stable secret is overdue", () => {
        const [, late] = sequence([
            [{ k: hmac(1, "stable", { maxAgeDays: 30 }) }, T0],
            [{ k: hmac(1, "stable", { maxAgeDays: 30 }) }, hours(31 * 24)],
        ]);
        expect(late.warnings.join("\n")).toMatch(/k is overdue for rotation: generation 1 reached maxAgeDays \(30\)/);
    });
});

describe("roll-out order", () => {
    it("overlap: presenters wait for every verifier; two waves; untouched workloads stay", () => {
        const [, overlap] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(1)],
        ]);
        expect(overlap.edges).toEqual([
            { from: "titan-brain", to: "titan-execution-rs", secret: "k" },
            { from: "titan-brain", to: "titan-sentinel", secret: "k" },
        ]);
        expect(overlap.waves).toEqual([["titan-execution-rs", "titan-sentinel"], ["titan-brain"]]);
        expect(overlap.workloads.find((w) => w.service.name === "titan-ai-quant")!.changed).toBe(false);
        expect(overlap.summary.join("\n")).toContain(
            "k: stable at generation 1 -> overlap at generation 2. Verifiers to g2+g1: titan-execution-rs (wave 1), titan-sentinel (wave 1). Presenters to g2: titan-brain (wave 2). Not restarted: titan-ai-quant.",
        );
    });
    it("stable after overlap rolls only the verifiers; presenters keep their pods", () => {
        const [, , stable] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(1)],
            [{ k: hmac(2, "stable") }, hours(30)],
        ]);
        expect(stable.waves).toEqual([["titan-execution-rs", "titan-sentinel"]]);
        expect(stable.edges).toEqual([]);
    });
    it("revert rolls only the presenters; stable at the old generation then rolls only the verifiers", () => {
        const [, , revert, back] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "overlap") }, hours(1)],
            [{ k: hmac(2, "revert") }, hours(2)],
            [{ k: hmac(1, "stable") }, hours(3)],
        ]);
        expect(revert.waves).toEqual([["titan-brain"]]);
        expect(back.waves).toEqual([["titan-execution-rs", "titan-sentinel"]]);
        expect(back.ledger.k.keys.map((k) => k.generation)).toEqual([1]);
    });
    it("revert with both sides changing (no ledger) orders verifiers after presenters", () => {
        const p = plan({ k: hmac(2, "revert") });
        expect(p.edges).toEqual([
            { from: "titan-execution-rs", to: "titan-brain", secret: "k" },
            { from: "titan-sentinel", to: "titan-brain", secret: "k" },
        ]);
    });
    it("compromised: everything at once, and a loud warning", () => {
        const [, c] = sequence([
            [{ k: hmac(1, "stable") }, T0],
            [{ k: hmac(2, "compromised", { incident: "INC-7" }) }, hours(1)],
        ]);
        expect(c.edges).toEqual([]);
        expect(c.waves).toEqual([["titan-brain", "titan-execution-rs", "titan-sentinel"]]);
        expect(c.warnings.join("\n")).toMatch(
            /COMPROMISED k \(incident INC-7\): generation 1 is dropped at once .* auth failures are expected/,
        );
    });
    it("refuses two rotations whose orders contradict, naming both secrets", () => {
        const a = hmac(1, "stable", { verifiers: ["titan-execution-rs"], presenters: ["titan-brain"] });
        const b = hmac(1, "stable", { verifiers: ["titan-brain"], presenters: ["titan-execution-rs"], envPrefix: "TITAN_HMAC_BACK" });
        const [first] = sequence([[{ a, b }, T0]]);
        const move = { a: { ...a, generation: 2, stage: "overlap" }, b: { ...b, generation: 2, stage: "overlap" } };
        expect(() => plan(move, first.ledger, hours(1))).toThrow(ConfigError);
        expect(() => plan(move, first.ledger, hours(1))).toThrow(/rotations of "a" and "b" in one up whose orders contradict each other/);
        // One at a time is fine, and a steady overlap does not block the other.
        const [, onlyA, thenB] = sequence([
            [{ a, b }, T0],
            [{ a: move.a, b }, hours(1)],
            [{ a: move.a, b: move.b }, hours(2)],
        ]);
        expect(onlyA.edges.map((e) => e.secret)).toEqual(["a"]);
        expect(thenB.edges.map((e) => e.secret)).toEqual(["b"]);
    });
    it("checkAcyclic finds longer cycles", () => {
        expect(() =>
            checkAcyclic([
                { from: "x", to: "y", secret: "s1" },
                { from: "y", to: "z", secret: "s2" },
                { from: "z", to: "x", secret: "s3" },
            ]),
        ).toThrow(/rotations of "s1" and "s2" and "s3"/);
        expect(() =>
            checkAcyclic([
                { from: "x", to: "y", secret: "s1" },
                { from: "x", to: "z", secret: "s2" },
                { from: "y", to: "z", secret: "s3" },
            ]),
        ).not.toThrow();
    });
});
