// `rotate run` and `rotate status --stacks` (cli/rotate/fleet.ts) over a
// fleet whose ups are the program's own decisions (test/support/fakeFleet.ts:
// the model's functions, no engine): which stack `run` ups next, that it
// stops on a failed or refused up with the command that resumes, and that
// the fleet's rule holds after every up of a whole rotation.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordingIo } from "./support/rotateIo";
import { stringify } from "yaml";
import { mainAsync } from "../cli/rotate/cli";
import { FleetDriver, FleetIo, fleetStatus, runRotation } from "../cli/rotate/fleet";
import { LedgerReadError } from "../cli/rotate/ledgerSource";
import { UsageError } from "../cli/common";
import { Ledger, ledgerView, standingOf } from "../model";
import { FLEET_SECRET, fleetStackConfigs } from "../harness/fleet";
import { ConfigEntries, FakeFleet } from "./support/fakeFleet";

const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

const configs = fleetStackConfigs({ eu: { renderDir: "rendered-eu" }, us: { renderDir: "rendered-us" } });
/** A third cluster with eu's services and consumers (titan-execution-rs verifies, titan-brain presents). */
const CLUSTERS: Record<string, ConfigEntries> = { eu: configs.eu, us: configs.us, ap: { ...configs.eu } };
const ALL = ["keys", "eu", "us", "ap"];
const RESUME = (g: number) => `npm run rotate -- run ${FLEET_SECRET} --stacks ${ALL.join(",")} --generation ${g}`;

/** The whole rotation stable g1 -> stable g2 over keys, eu, us, ap, one up at a time. */
const FULL_ROTATION = ["keys", "eu", "us", "ap", "eu", "us", "keys", "eu", "us", "ap"];

/** The key stack's entries: the harness's, at (generation, stage), with `clusters` and extra fields of the secret. */
function keyEntries(generation: number, stage: string, clusters: string[], extra: Record<string, unknown> = {}): ConfigEntries {
    const base = configs.keys(generation, stage);
    const secret = (base["titan-secrets:secrets"] as Record<string, Record<string, unknown>>)[FLEET_SECRET];
    return {
        ...base,
        "titan-secrets:fleet": { role: "keys", clusters },
        "titan-secrets:secrets": { [FLEET_SECRET]: { ...secret, ...extra } },
    };
}

let dir: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "titan-rotate-run-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Clock {
    /** The program's clock at each up. */
    program: Date;
    /** The run's clock (io.now). */
    run: Date;
}

/** A fleet at stable g1 everywhere: every stack has run once (not recorded). */
async function stableFleet(
    clock: Clock,
    opts: { clusters?: Record<string, ConfigEntries>; extra?: Record<string, unknown>; fileStack?: string } = {},
): Promise<FakeFleet> {
    const clusters = opts.clusters ?? CLUSTERS;
    const fleet = new FakeFleet({
        dir,
        keyStack: "keys",
        keyConfig: keyEntries(1, "stable", Object.keys(clusters), opts.extra),
        clusters,
        now: () => clock.program,
        fileStack: opts.fileStack,
    });
    for (const stack of ["keys", ...Object.keys(clusters)]) await fleet.up(stack);
    fleet.clearRecord();
    return fleet;
}

interface Captured {
    io: FleetIo;
    out: () => string;
    err: () => string;
}

function capture(clock: Clock): Captured {
    let out = "";
    let err = "";
    return { io: { out: (t) => void (out += t), err: (t) => void (err += t), now: () => clock.run }, out: () => out, err: () => err };
}

function run(d: FleetDriver, io: FleetIo, generation?: number, stacks = ALL): Promise<number> {
    return runRotation(d, { secret: FLEET_SECRET, stacks, generation, resumeCommand: RESUME }, io);
}

/** The secret as the key stack's file declares it. */
function declared(fleet: FakeFleet): Record<string, unknown> {
    return (fleet.keyFileConfig()["titan-secrets:secrets"] as Record<string, Record<string, unknown>>)[FLEET_SECRET];
}

/**
 * The fleet's rule on a set of ledgers: a cluster's presenters use only a
 * generation that every cluster's verifiers hold (a cluster with no verifiers
 * blocks no one) and that the key ring still has.
 */
function violations(ledgers: Record<string, Ledger | undefined>, clusters: string[]): string[] {
    const standings = clusters.flatMap((c) => {
        const row = ledgers[c]?.[FLEET_SECRET];
        return row ? [[c, standingOf(row, FLEET_SECRET)] as const] : [];
    });
    const keyRow = ledgers.keys?.[FLEET_SECRET];
    const ring = keyRow ? ledgerView(keyRow, FLEET_SECRET).live : [];
    const out: string[] = [];
    for (const [c, s] of standings) {
        for (const g of s.presenters) {
            if (!ring.includes(g)) out.push(`${c}'s presenters use g${g}, which the key ring (g${ring.join("+g")}) lacks`);
            for (const [d, t] of standings) {
                if (t.verifiers.length > 0 && !t.verifiers.includes(g))
                    out.push(`${c}'s presenters use g${g}, which ${d}'s verifiers (g${t.verifiers.join("+g")}) lack`);
            }
        }
    }
    return out;
}

const upLines = (out: string) => [...out.matchAll(/^- pulumi up ([^:]+): (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);

describe("rotate run: a whole rotation over a key stack and three clusters", () => {
    it("ups keys, each cluster's verifiers, the presenters, keys, each cluster again; the rule holds after every up", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const { io, out, err } = capture(clock);
        const code = await run(fleet, io);
        expect(err()).toBe("");
        expect(code).toBe(0);
        expect(fleet.ups.map((u) => u.stack)).toEqual(FULL_ROTATION);
        expect(fleet.ups.every((u) => u.ok)).toBe(true);
        expect(upLines(out())).toEqual([
            "keys: apply overlap at generation 2 to the key ring",
            "eu: verifiers take g2+g1",
            "us: verifiers take g2+g1",
            "ap: verifiers take g2+g1",
            "eu: presenters move to g2",
            "us: presenters move to g2",
            "keys: apply stable at generation 2 to the key ring",
            "eu: verifiers drop the old generation (stable at generation 2)",
            "us: verifiers drop the old generation (stable at generation 2)",
            "ap: verifiers drop the old generation (stable at generation 2)",
        ]);
        expect(out()).toContain(`rotate run: done: ${FLEET_SECRET} is stable at generation 2 in the key ring and every cluster\n`);

        // eu and us are held on g1 at their first step; ap, the last, takes both steps in one up.
        const rowAfter = (i: number, stack: string) => fleet.ups[i].ledgers[stack]![FLEET_SECRET];
        expect(rowAfter(1, "eu")).toMatchObject({ stage: "overlap", generation: 2, presentersHeldAt: 1 });
        expect(rowAfter(2, "us")).toMatchObject({ stage: "overlap", generation: 2, presentersHeldAt: 1 });
        expect(rowAfter(3, "ap").presentersHeldAt).toBeUndefined();
        expect(standingOf(rowAfter(3, "ap"), FLEET_SECRET)).toMatchObject({ verifiers: [2, 1], presenters: [2] });
        expect(standingOf(rowAfter(4, "eu"), FLEET_SECRET)).toMatchObject({ verifiers: [2, 1], presenters: [2] });

        for (const [i, u] of fleet.ups.entries()) {
            expect(violations(u.ledgers, ["eu", "us", "ap"]), `after up ${i + 1} (${u.stack})`).toEqual([]);
        }

        // The key stack's file: stable at generation 2, nothing else added.
        expect(declared(fleet)).toEqual({ kind: "hmac", generation: 2, stage: "stable", minOverlapHours: 0 });
        for (const c of ["eu", "us", "ap"]) {
            expect(standingOf(fleet.ledgerOf(c)![FLEET_SECRET], FLEET_SECRET)).toEqual({
                verifiers: [2],
                presenters: [2],
                stage: "stable",
                generation: 2,
            });
        }
        // The key stack's last up recorded where each cluster stood (before they dropped g1).
        expect(fleet.ledgerOf("keys")![FLEET_SECRET]).toMatchObject({ stage: "stable", generation: 2 });
        expect(fleet.ledgerOf("keys")![FLEET_SECRET].clusters?.ap).toEqual({
            verifiers: [2, 1],
            presenters: [2],
            stage: "overlap",
            generation: 2,
        });
    });

    it("--parallel: every cluster's verifiers' step side by side (all held), then every presenters' step, then every retire", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const { io, out, err } = capture(clock);
        const code = await runRotation(
            fleet,
            { secret: FLEET_SECRET, stacks: ALL, resumeCommand: (g) => `resume --generation ${g} --parallel`, parallel: true },
            io,
        );
        expect(err()).toBe("");
        expect(code).toBe(0);
        // 3N + 2 ups in 5 phases: one more up than one at a time, two phases fewer.
        expect(fleet.ups.map((u) => u.stack)).toEqual(["keys", "eu", "us", "ap", "eu", "us", "ap", "keys", "eu", "us", "ap"]);
        expect(
            out()
                .split("\n")
                .filter((l) => l.startsWith("- side by side:")),
        ).toEqual(["- side by side: eu, us, ap", "- side by side: eu, us, ap", "- side by side: eu, us, ap"]);
        // Side by side, each read the others before any finished: all three held on g1, then all moved.
        for (const [i, c] of [
            [1, "eu"],
            [2, "us"],
            [3, "ap"],
        ] as const) {
            expect(fleet.ups[i].ledgers[c]![FLEET_SECRET]).toMatchObject({ stage: "overlap", generation: 2, presentersHeldAt: 1 });
            expect(fleet.ups[i + 3].ledgers[c]![FLEET_SECRET].presentersHeldAt).toBeUndefined();
        }
        for (const [i, u] of fleet.ups.entries())
            expect(violations(u.ledgers, ["eu", "us", "ap"]), `after up ${i + 1} (${u.stack})`).toEqual([]);
        expect(declared(fleet)).toEqual({ kind: "hmac", generation: 2, stage: "stable", minOverlapHours: 0 });
    });

    it("the rule check itself sees a cluster's presenters ahead of another's verifiers", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const initialUs = fleet.ledgerOf("us");
        expect(await run(fleet, capture(clock).io)).toBe(0);
        const afterAp = fleet.ups[3].ledgers;
        expect(violations({ ...afterAp, us: initialUs }, ["eu", "us", "ap"])).toEqual([
            "ap's presenters use g2, which us's verifiers (g1) lack",
        ]);
    });
});

describe("rotate run: clusters that hold only part of the secret", () => {
    it("a cluster with presenters only blocks no one's presenters and is upped in each phase", async () => {
        const clock = { program: T0, run: T0 };
        const ap = { ...configs.eu, "titan-secrets:consumers": { [FLEET_SECRET]: { verifiers: [], presenters: ["titan-brain"] } } };
        const fleet = await stableFleet(clock, { clusters: { eu: configs.eu, us: configs.us, ap } });
        const { io, err } = capture(clock);
        expect(await run(fleet, io)).toBe(0);
        expect(err()).toBe("");
        // eu waits for us's verifiers only; us and ap take both steps at once.
        expect(fleet.ups.map((u) => u.stack)).toEqual(["keys", "eu", "us", "ap", "eu", "keys", "eu", "us", "ap"]);
        for (const u of fleet.ups) expect(violations(u.ledgers, ["eu", "us", "ap"])).toEqual([]);
        expect(standingOf(fleet.ledgerOf("ap")![FLEET_SECRET], FLEET_SECRET)).toEqual({
            verifiers: [],
            presenters: [2],
            stage: "stable",
            generation: 2,
        });
    });

    it("a cluster that does not consume the secret is upped once (it may not have run), then left alone", async () => {
        const clock = { program: T0, run: T0 };
        const ops = { ...configs.eu, "titan-secrets:consumers": {} };
        const fleet = await stableFleet(clock, { clusters: { eu: configs.eu, us: configs.us, ops } });
        expect(fleet.ledgerOf("ops")).toEqual({});
        const { io, err } = capture(clock);
        expect(await run(fleet, io, undefined, ["keys", "eu", "us", "ops"])).toBe(0);
        expect(err()).toBe("");
        expect(fleet.ups.map((u) => u.stack)).toEqual(["ops", "keys", "eu", "us", "eu", "keys", "eu", "us"]);
    });
});

describe("rotate run: resuming", () => {
    it("a failed 3rd up stops with exit 1 and the resume command; the resumed run finishes without repeating an up", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        fleet.failUp(3, "error: update failed\n  kubernetes:apps/v1:Deployment (titan-sentinel): rollout timed out");
        const first = capture(clock);
        expect(await run(fleet, first.io)).toBe(1);
        expect(fleet.ups.map((u) => [u.stack, u.ok])).toEqual([
            ["keys", true],
            ["eu", true],
            ["us", false],
        ]);
        expect(first.err()).toContain("rotate run: the up of us failed:\nerror: update failed\n");
        expect(first.err()).toContain("rollout timed out");
        expect(first.err()).toContain(`Resume with: ${RESUME(2)}\n`);
        expect(first.err()).toMatch(/--generation 2\n$/);
        expect(first.out()).not.toContain("done");
        // The failed up left us's ledger as it was.
        expect(fleet.ups[2].ledgers.us![FLEET_SECRET]).toMatchObject({ stage: "stable", generation: 1 });

        const firstOk = fleet.succeeded();
        fleet.clearRecord();
        const second = capture(clock);
        expect(await run(fleet, second.io, 2)).toBe(0);
        expect(second.err()).toBe("");
        expect(fleet.ups.map((u) => u.stack)).toEqual(["us", "ap", "eu", "us", "keys", "eu", "us", "ap"]);
        expect([...firstOk, ...fleet.succeeded()]).toEqual(FULL_ROTATION);
        expect(declared(fleet)).toMatchObject({ generation: 2, stage: "stable" });
    });

    it.each(FULL_ROTATION.map((stack, i) => [i + 1, stack] as const))(
        "a failure at up %i (%s) resumes where it stopped",
        async (n, stack) => {
            const clock = { program: T0, run: T0 };
            const fleet = await stableFleet(clock);
            fleet.failUp(n);
            const first = capture(clock);
            expect(await run(fleet, first.io)).toBe(1);
            expect(fleet.ups.map((u) => u.ok)).toEqual([...Array<boolean>(n - 1).fill(true), false]);
            expect(fleet.ups[n - 1].stack).toBe(stack);
            expect(first.err()).toContain(`Resume with: ${RESUME(2)}`);
            const firstOk = fleet.succeeded();
            fleet.clearRecord();
            expect(await run(fleet, capture(clock).io, 2)).toBe(0);
            expect(fleet.ups[0].stack).toBe(stack);
            expect([...firstOk, ...fleet.succeeded()]).toEqual(FULL_ROTATION);
            for (const u of fleet.ups) expect(violations(u.ledgers, ["eu", "us", "ap"])).toEqual([]);
        },
    );

    it("an up the program refuses stops the run and leaves that stack's ledger; the same command finishes once it is allowed", async () => {
        // The run's clock is ahead of the program's: run writes stable, the key stack's up refuses it.
        const clock = { program: T0, run: hours(25) };
        const fleet = await stableFleet(clock, { extra: { minOverlapHours: 24 } });
        const first = capture(clock);
        expect(await run(fleet, first.io)).toBe(1);
        expect(fleet.ups.map((u) => [u.stack, u.ok])).toEqual([...FULL_ROTATION.slice(0, 6).map((s) => [s, true]), ["keys", false]]);
        expect(fleet.ups[6].error).toContain("titan-secrets:secrets.titan-hmac.stage");
        expect(fleet.ups[6].error).toContain("minOverlapHours (24)");
        expect(first.err()).toContain("rotate run: the up of keys failed:");
        expect(first.err()).toContain("minOverlapHours (24)");
        expect(first.err()).toContain("rotate run: stopped: the key stack keys did not apply stable at generation 2");
        expect(fleet.ledgerOf("keys")![FLEET_SECRET]).toMatchObject({ stage: "overlap", generation: 2 });
        expect(declared(fleet)).toMatchObject({ stage: "stable", generation: 2 });

        clock.program = hours(25);
        fleet.clearRecord();
        expect(await run(fleet, capture(clock).io, 2)).toBe(0);
        expect(fleet.ups.map((u) => u.stack)).toEqual(["keys", "eu", "us", "ap"]);
    });
});

describe("rotate run: minOverlapHours", () => {
    it("stops after the presenters' steps with the model's reason and the resume command; 25 hours later it finishes", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock, { extra: { minOverlapHours: 24 } });
        const first = capture(clock);
        expect(await run(fleet, first.io)).toBe(1);
        expect(fleet.ups.map((u) => u.stack)).toEqual(FULL_ROTATION.slice(0, 6));
        expect(fleet.ups.every((u) => u.ok)).toBe(true);
        const err = first.err();
        expect(err).toContain(`after overlap at generation 2 was applied (${T0.toISOString()})`);
        expect(err).toContain("titan-secrets:secrets.titan-hmac.stage");
        expect(err).toContain(`stable at generation 2 from ${hours(24).toISOString()} on, when minOverlapHours (24) have passed`);
        expect(err).toContain("rotate run: stopped: the key ring cannot retire generation 1 yet\n");
        expect(err).toContain(`Resume with: ${RESUME(2)}\n`);
        // Nothing written: the file still says overlap.
        expect(declared(fleet)).toMatchObject({ stage: "overlap", generation: 2 });

        clock.program = hours(25);
        clock.run = hours(25);
        fleet.clearRecord();
        const second = capture(clock);
        expect(await run(fleet, second.io, 2)).toBe(0);
        expect(fleet.ups.map((u) => u.stack)).toEqual(FULL_ROTATION.slice(6));
        expect(second.out()).toContain("rotate run: done:");
        expect(declared(fleet)).toMatchObject({ stage: "stable", generation: 2, minOverlapHours: 24 });
    });
});

describe("rotate run: which stacks", () => {
    it("--stacks that leaves out a cluster of the key ring is a usage error, before any up", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const before = readFileSync(fleet.keyStackFile, "utf8");
        const p = run(fleet, capture(clock).io, undefined, ["keys", "eu", "us"]);
        await expect(p).rejects.toThrow(UsageError);
        await expect(p).rejects.toThrow("--stacks leaves out ap, which the key ring lists under fleet.clusters");
        expect(fleet.ups).toEqual([]);
        expect(readFileSync(fleet.keyStackFile, "utf8")).toBe(before);
    });

    it("a first stack that is not a key stack is a usage error", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock, { fileStack: "eu" });
        writeFileSync(join(dir, "Pulumi.eu.yaml"), stringify({ config: configs.eu }));
        const p = run(fleet, capture(clock).io, undefined, ["eu", "keys", "us", "ap"]);
        await expect(p).rejects.toThrow(UsageError);
        await expect(p).rejects.toThrow(
            "Pulumi.eu.yaml: the first of --stacks must be the key stack (fleet.role keys), found role workloads",
        );
        expect(fleet.ups).toEqual([]);
    });

    it("a secret the key ring does not declare is a usage error", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const p = runRotation(fleet, { secret: "titan-hmak", stacks: ALL, resumeCommand: RESUME }, capture(clock).io);
        await expect(p).rejects.toThrow(UsageError);
        await expect(p).rejects.toThrow(`no secret "titan-hmak" in Pulumi.keys.yaml; secrets: ${FLEET_SECRET}`);
        expect(fleet.ups).toEqual([]);
    });

    it("the key stack alone is a usage error", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        await expect(run(fleet, capture(clock).io, undefined, ["keys"])).rejects.toThrow(
            "--stacks needs the key stack and at least one workload stack",
        );
    });
});

describe("rotate run: again after done", () => {
    it("with the same generation: no up, nothing written, exit 0", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        expect(await run(fleet, capture(clock).io)).toBe(0);
        const file = readFileSync(fleet.keyStackFile, "utf8");
        fleet.clearRecord();
        const again = capture(clock);
        expect(await run(fleet, again.io, 2)).toBe(0);
        expect(fleet.ups).toEqual([]);
        expect(upLines(again.out())).toEqual([]);
        expect(again.out()).toContain(`rotate run: done: ${FLEET_SECRET} is stable at generation 2`);
        expect(again.err()).toBe("");
        expect(readFileSync(fleet.keyStackFile, "utf8")).toBe(file);
    });
});

describe("rotate status --stacks", () => {
    it("shows each cluster's verifiers, presenters and presentersHeldAt mid-rotation (after eu's held step)", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        fleet.failUp(3);
        expect(await run(fleet, capture(clock).io)).toBe(1);
        const status = capture(clock);
        expect(await fleetStatus(fleet, ALL, status.io, true)).toBe(0);
        expect(JSON.parse(status.out())).toEqual({
            [FLEET_SECRET]: {
                config: { stage: "overlap", generation: 2 },
                keyRing: { stage: "overlap", generation: 2, at: T0.toISOString() },
                dueAt: expect.stringMatching(/^2027-.*Z$/),
                overdue: false,
                dueSoon: false,
                clusters: {
                    eu: { verifiers: [2, 1], presenters: [1], stage: "overlap", generation: 2, presentersHeldAt: 1 },
                    us: { verifiers: [1], presenters: [1], stage: "stable", generation: 1, presentersHeldAt: null },
                    ap: { verifiers: [1], presenters: [1], stage: "stable", generation: 1, presentersHeldAt: null },
                },
            },
        });
        const text = capture(clock);
        expect(await fleetStatus(fleet, ALL, text.io, false)).toBe(0);
        expect(text.out()).toContain("  eu: follows overlap at generation 2; verifiers g2+g1, presenters g1 (presenters held on g1)\n");
        expect(text.out()).toContain("  us: follows stable at generation 1; verifiers g1, presenters g1\n");
    });

    it("--check exits 1 when a secret of the key ring is overdue; the due date is the key ring's", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const keysLedger = (await fleet.ledger("keys")) as Ledger;
        const dueAt = keysLedger[FLEET_SECRET].dueAt;
        clock.run = new Date(Date.parse(dueAt) + 3_600_000);
        const late = capture(clock);
        expect(await fleetStatus(fleet, ALL, late.io, false, { check: true })).toBe(1);
        expect(late.out()).toContain(`due ${dueAt} (OVERDUE)`);
        expect(late.out()).toContain(`Overdue: ${FLEET_SECRET}\n`);
        expect(await fleetStatus(fleet, ALL, capture(clock).io, false)).toBe(0); // without --check: shown, exit 0
        const json = capture(clock);
        expect(await fleetStatus(fleet, ALL, json.io, true, { check: true })).toBe(1);
        expect(JSON.parse(json.out())[FLEET_SECRET]).toMatchObject({ dueAt, overdue: true });
        clock.run = new Date(Date.parse(dueAt) - 3_600_000);
        const early = capture(clock);
        expect(await fleetStatus(fleet, ALL, early.io, false, { check: true, dueSoonDays: 1 })).toBe(0);
        expect(early.out()).toContain(`Overdue: none\nDue within 1 days: ${FLEET_SECRET}\n`);
    });

    it("a clock earlier than the key ring's ledger is refused (exit 1), with the record it is behind", async () => {
        const clock = { program: hours(2), run: hours(2) };
        const fleet = await stableFleet(clock);
        clock.run = hours(1);
        const early = capture(clock);
        expect(await fleetStatus(fleet, ALL, early.io, false, { check: true })).toBe(1);
        expect(early.err()).toContain(
            `rotate: refused: the clock (${hours(1).toISOString()}) is earlier than the last up's ledger: ${FLEET_SECRET}: stable at generation 1 applied at ${hours(2).toISOString()}`,
        );
        expect(early.out()).toBe("");
    });

    it("a cluster whose ledger cannot be read stops it (never shown as not run yet)", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const failing = (fail: (stack: string) => unknown): FleetDriver => ({
            keyStackFile: fleet.keyStackFile,
            ledger: async (stack) => (stack === "us" ? fail(stack) : fleet.ledger(stack)),
            up: (stack) => fleet.up(stack),
            writeKeyStackFile: (text) => fleet.writeKeyStackFile(text),
        });
        const expired = failing(() => {
            throw new Error("error: [401] Unauthorized: your access token has expired");
        });
        await expect(fleetStatus(expired, ALL, capture(clock).io, false)).rejects.toThrow(
            new LedgerReadError("cannot read the ledger of stack us: error: [401] Unauthorized: your access token has expired"),
        );
        const garbled = failing(() => ({ [FLEET_SECRET]: { kind: "hmac", generation: "two" } }));
        await expect(fleetStatus(garbled, ALL, capture(clock).io, false, { check: true })).rejects.toThrow(
            /^cannot read the ledger of stack us for titan-hmac: /,
        );
        // run stops too, before any up.
        fleet.clearRecord();
        await expect(run(expired, capture(clock).io)).rejects.toThrow(LedgerReadError);
        expect(fleet.ups).toEqual([]);
    });

    it("a secret the key ring's ledger has and its file dropped is shown, refused (--check: exit 1); any row that does not parse stops it", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock);
        const keys = (await fleet.ledger("keys")) as Ledger;
        const withRow = (row: unknown): FleetDriver => ({
            keyStackFile: fleet.keyStackFile,
            ledger: async (stack) => (stack === "keys" ? { ...keys, "titan-old": row } : fleet.ledger(stack)),
            up: (stack) => fleet.up(stack),
            writeKeyStackFile: (text) => fleet.writeKeyStackFile(text),
        });
        const dropped = withRow(keys[FLEET_SECRET]);
        const text = capture(clock);
        expect(await fleetStatus(dropped, ALL, text.io, false, { check: true })).toBe(1);
        expect(text.out()).toContain("titan-old: removed from Pulumi.keys.yaml; key ring keys at stable at generation 1");
        expect(text.out()).toMatch(
            / {2}REFUSED: {2}titan-secrets:secrets\.titan-old: found nothing, but the last up applied stable at generation 1/,
        );
        expect(text.out()).toContain("Refused at the next up: titan-old\n");
        const json = capture(clock);
        expect(await fleetStatus(dropped, ALL, json.io, true)).toBe(0); // shown; exit 1 only with --check
        expect(JSON.parse(json.out())["titan-old"]).toMatchObject({
            config: null,
            removed: true,
            refused: expect.stringContaining("titan-old"),
        });
        await expect(fleetStatus(withRow({ kind: "hmac" }), ALL, capture(clock).io, false, { check: true })).rejects.toThrow(
            /^cannot read the ledger of stack keys: titan-old: /,
        );
    });

    // A workload stack parsed without its key ring has no secrets: status must not print "{}" and succeed.
    it("a first stack that is not a key stack is a usage error", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock, { fileStack: "eu" });
        writeFileSync(join(dir, "Pulumi.eu.yaml"), stringify({ config: configs.eu }));
        await expect(fleetStatus(fleet, ["eu", "keys", "us", "ap"], capture(clock).io, true)).rejects.toThrow(UsageError);
    });
});

describe("mainAsync: run and status --stacks with a given driver", () => {
    const mainIo = (clock: Clock) => recordingIo({ repo: dir, now: () => clock.run, why: "the driver is given" });

    async function twoClusters(clock: Clock) {
        const fleet = await stableFleet(clock, { clusters: { eu: configs.eu, us: configs.us } });
        const calls: [string[], string][] = [];
        const driverFor = async (stacks: string[], d: string) => {
            calls.push([stacks, d]);
            return fleet;
        };
        return { fleet, calls, driverFor };
    }

    it("run <secret> --stacks keys,eu,us --dir DIR rotates with the driver for those stacks and that folder", async () => {
        const clock = { program: T0, run: T0 };
        const { fleet, calls, driverFor } = await twoClusters(clock);
        const m = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--dir", dir], m.io, driverFor)).toBe(0);
        expect(m.err()).toBe("");
        expect(calls).toEqual([[["keys", "eu", "us"], dir]]);
        expect(fleet.ups.map((u) => u.stack)).toEqual(["keys", "eu", "us", "eu", "keys", "eu", "us"]);
        expect(m.out()).toContain(`rotate run: ${FLEET_SECRET} to stable at generation 2 over keys (key ring) and eu, us\n`);
        expect(m.out()).toContain("rotate run: done:");
    });

    it("a stopped run prints the command line that resumes it; --generation resumes", async () => {
        const clock = { program: T0, run: T0 };
        const { fleet, driverFor } = await twoClusters(clock);
        // The 6th up (eu dropping g1, after the key ring's stable g2): without --generation a run would now start g3.
        fleet.failUp(6);
        const m = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--dir", dir], m.io, driverFor)).toBe(1);
        expect(fleet.ups.map((u) => [u.stack, u.ok])).toEqual([
            ["keys", true],
            ["eu", true],
            ["us", true],
            ["eu", true],
            ["keys", true],
            ["eu", false],
        ]);
        expect(m.err()).toContain(`Resume with: npm run rotate -- run ${FLEET_SECRET} --stacks keys,eu,us --dir ${dir} --generation 2\n`);
        fleet.clearRecord();
        const again = mainIo(clock);
        const argv = ["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--dir", dir, "--generation", "2"];
        expect(await mainAsync(argv, again.io, driverFor)).toBe(0);
        expect(fleet.ups.map((u) => u.stack)).toEqual(["eu", "us"]);
        expect(again.out()).toContain("rotate run: done:");
    });

    it("--now is the run's clock", async () => {
        const clock = { program: T0, run: T0 };
        const fleet = await stableFleet(clock, { clusters: { eu: configs.eu, us: configs.us }, extra: { minOverlapHours: 24 } });
        const driverFor = async () => fleet;
        const early = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET, "--stacks", "keys,eu,us"], early.io, driverFor)).toBe(1);
        expect(early.err()).toContain("minOverlapHours (24)");
        // The program's clock has moved on; io.now has not: only --now lets the run write stable.
        clock.program = hours(25);
        const stillEarly = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--generation", "2"], stillEarly.io, driverFor)).toBe(1);
        expect(stillEarly.err()).toContain("minOverlapHours (24)");
        const late = mainIo(clock);
        const argv = ["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--generation", "2", "--now", hours(25).toISOString()];
        expect(await mainAsync(argv, late.io, driverFor)).toBe(0);
    });

    it("run without --stacks is a usage error (exit 2), and the driver is not asked for", async () => {
        const clock = { program: T0, run: T0 };
        const { calls, driverFor } = await twoClusters(clock);
        const m = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET], m.io, driverFor)).toBe(2);
        expect(m.err()).toContain("rotate: run needs --stacks <key stack>,<cluster>,... e.g. --stacks keys,eu,us\n");
        expect(m.err()).toContain("Run with --help for usage.");
        expect(calls).toEqual([]);
    });

    it("--stacks that leaves out a cluster is exit 2 with the reason", async () => {
        const clock = { program: T0, run: T0 };
        const { fleet, driverFor } = await twoClusters(clock);
        const m = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET, "--stacks", "keys,eu"], m.io, driverFor)).toBe(2);
        expect(m.err()).toContain("rotate: --stacks leaves out us");
        expect(fleet.ups).toEqual([]);
    });

    it("run refuses to write a key stack stage shared with another secret through a YAML anchor: exit 3, nothing written", async () => {
        const clock = { program: T0, run: T0 };
        const { fleet, driverFor } = await twoClusters(clock);
        const shared =
            readFileSync(fleet.keyStackFile, "utf8").replace(`${FLEET_SECRET}:\n`, `${FLEET_SECRET}: &ring\n`) + "    titan-other: *ring\n";
        writeFileSync(fleet.keyStackFile, shared);
        const m = mainIo(clock);
        expect(await mainAsync(["run", FLEET_SECRET, "--stacks", "keys,eu,us", "--dir", dir], m.io, driverFor)).toBe(3);
        expect(m.err()).toContain(`titan-secrets:secrets.${FLEET_SECRET} is shared through the YAML anchor &ring`);
        expect(m.err()).toContain("would also change titan-secrets:secrets.titan-other");
        expect(readFileSync(fleet.keyStackFile, "utf8")).toBe(shared);
        expect(fleet.succeeded()).toEqual([]);
    });

    it("status --stacks --check: exit 1 on an overdue secret; exit 4 with the reason when a stack's ledger cannot be read", async () => {
        const clock = { program: T0, run: T0 };
        const { fleet, driverFor } = await twoClusters(clock);
        clock.run = new Date(Date.parse(((await fleet.ledger("keys")) as Ledger)[FLEET_SECRET].dueAt) + 1000);
        const overdue = mainIo(clock);
        expect(await mainAsync(["status", "--stacks", "keys,eu,us", "--check"], overdue.io, driverFor)).toBe(1);
        expect(overdue.out()).toContain(`Overdue: ${FLEET_SECRET}\n`);
        expect(await mainAsync(["status", "--stacks", "keys,eu,us"], mainIo(clock).io, driverFor)).toBe(0);
        const broken = async (): Promise<FleetDriver> => ({
            keyStackFile: fleet.keyStackFile,
            ledger: async (stack) => {
                if (stack === "eu") throw new Error("error: no pulumi on PATH");
                return fleet.ledger(stack);
            },
            up: (stack) => fleet.up(stack),
            writeKeyStackFile: (text) => fleet.writeKeyStackFile(text),
        });
        const unread = mainIo(clock);
        expect(await mainAsync(["status", "--stacks", "keys,eu,us", "--check", "--json"], unread.io, broken)).toBe(4);
        expect(unread.err()).toBe("rotate: cannot read the ledger of stack eu: error: no pulumi on PATH\n");
        expect(JSON.parse(unread.out())).toEqual({
            error: "cannot read the ledger of stack eu: error: no pulumi on PATH",
            cannotRead: true,
        });
        expect(unread.out()).not.toContain("Overdue");
    });

    it("status --stacks keys,eu,us --json goes to fleetStatus", async () => {
        const clock = { program: T0, run: T0 };
        const { driverFor } = await twoClusters(clock);
        const m = mainIo(clock);
        expect(await mainAsync(["status", "--stacks", "keys,eu,us", "--json"], m.io, driverFor)).toBe(0);
        const report = JSON.parse(m.out()) as Record<string, { clusters: Record<string, unknown> }>;
        expect(Object.keys(report[FLEET_SECRET].clusters)).toEqual(["eu", "us"]);
    });
});
