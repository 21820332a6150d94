// One key ring, many clusters (model/fleet.ts), without the engine: the
// config of each role, and the cross-cluster rule a user relies on during a
// rotation: a cluster's presenters use a generation only once every
// cluster's verifiers hold it, and a generation leaves (a cluster's
// verifiers, the key ring) only once no cluster's presenters use it. Each
// cluster's ledger is the one its own earlier up wrote (planRotation), read
// back as another stack reads it (JSON, readLedger).

import { describe, expect, it } from "vitest";
import {
    ClusterReport,
    ConfigError,
    ConfigIssue,
    KeyRingExport,
    KeyRingSecrets,
    Ledger,
    NO_EXCHANGE_KEYS,
    Plan,
    admitRotation,
    followKeyRing,
    followedView,
    keyRingGuard,
    ledgerView,
    parseConfig,
    rawConfigFrom,
    readKeyRing,
    readLedger,
} from "../model";
import { FLEET_SECRET, fleetStackConfigs } from "../harness/fleet";
import { TITAN_SERVICES, hmac, titanConfig } from "./support/fleet";

const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

const configs = fleetStackConfigs({ eu: { renderDir: "rendered-eu" }, us: { renderDir: "rendered-us" } });
type Entries = Record<string, unknown>;

/** The key stack's config entries: its one HMAC secret at (generation, stage), plus `extra` fields. */
function keysEntries(generation: number, stage: string, extra: Record<string, unknown> = {}): Entries {
    const entries = configs.keys(generation, stage);
    const secrets = entries["titan-secrets:secrets"] as KeyRingSecrets;
    return { ...entries, "titan-secrets:secrets": { [FLEET_SECRET]: { ...secrets[FLEET_SECRET], ...extra } } };
}

/** What the key stack exports as `keyRing` (its declaration, no consumers). */
function ring(generation: number, stage: string, extra: Record<string, unknown> = {}, clusters = ["eu", "us"]): KeyRingExport {
    return { clusters, secrets: keysEntries(generation, stage, extra)["titan-secrets:secrets"] as KeyRingSecrets };
}

/** A third cluster whose stack has the same services as eu, with its own consumers. */
function apEntries(consumers: { verifiers: string[]; presenters: string[] }): Entries {
    return { ...configs.eu, "titan-secrets:consumers": { [FLEET_SECRET]: consumers } };
}

const entriesOf = (cluster: string): Entries => configs[cluster] as Entries;

/** Another stack's ledger as readFleet reads it: its output (JSON) through readLedger; undefined = it has not run yet. */
function report(stack: string, ledger?: unknown): ClusterReport {
    if (ledger === undefined) return { stack, unreadable: new Map() };
    const read = readLedger(JSON.parse(JSON.stringify(ledger)));
    return { stack, ledger: read.ledger, unreadable: read.unreadable };
}

/** One up of a workload stack: parse with the key ring, follow the fleet, admit (throws ConfigError when refused). */
function up(cluster: string, keyRing: KeyRingExport, previous: Ledger, others: ClusterReport[], now: Date, entries = entriesOf(cluster)) {
    const spec = parseConfig(rawConfigFrom(entries), cluster, keyRing.secrets);
    const follow = followKeyRing(spec, previous, cluster, keyRing, others);
    const plan: Plan = admitRotation(spec, previous, now, NO_EXCHANGE_KEYS, new Map(), follow);
    return { spec, follow, plan, ledger: plan.ledger, view: plan.secrets[0]?.view };
}

/** One up of the key stack: its guard over the clusters' reports, and its plan. */
function keysUp(entries: Entries, previous: Ledger, reports: ClusterReport[], now: Date) {
    const spec = parseConfig(rawConfigFrom(entries), "keys");
    return { guard: keyRingGuard(spec, previous, reports), ledger: admitRotation(spec, previous, now, NO_EXCHANGE_KEYS).ledger };
}

/** The issues of a refused parse or plan. */
function refused(f: () => unknown): ConfigIssue[] {
    try {
        f();
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues;
    }
    throw new Error("not refused");
}

const issueAt = (issues: ConfigIssue[], key: string): ConfigIssue => {
    const found = issues.find((i) => i.key === key);
    expect(found, `an issue at ${key} among ${issues.map((i) => i.key).join(", ")}`).toBeDefined();
    return found!;
};

describe("config: each role declares only its own part", () => {
    it("a keys stack refuses services", () => {
        const entries = { ...keysEntries(1, "stable"), "titan-secrets:services": TITAN_SERVICES };
        const issue = issueAt(
            refused(() => parseConfig(rawConfigFrom(entries), "keys")),
            "titan-secrets:services",
        );
        expect(issue.found).toBe('a value in a stack whose fleet.role is "keys"');
        expect(issue.allowed).toContain("this role declares: secrets, removeSecrets, stores, aws, fleet");
    });

    it("a workloads stack refuses secrets of its own", () => {
        const entries = { ...configs.eu, "titan-secrets:secrets": { [FLEET_SECRET]: hmac(1, "stable") } };
        const issues = refused(() => parseConfig(rawConfigFrom(entries), "eu", ring(1, "stable").secrets));
        const issue = issues.find((i) => i.key === "titan-secrets:secrets");
        expect(issue?.found).toBe('a value in a stack whose fleet.role is "workloads"');
        expect(issue?.allowed).toContain("declared in the key stack (fleet.keyRing), consumers here");
    });

    it("an all stack refuses consumers", () => {
        const raw = { ...titanConfig({ k: hmac(1, "stable") }), consumers: { k: { verifiers: ["titan-sentinel"], presenters: [] } } };
        const issue = issueAt(
            refused(() => parseConfig(raw, "dev")),
            "titan-secrets:consumers",
        );
        expect(issue.found).toBe('a value in a stack whose fleet.role is "all"');
        expect(issue.allowed).toContain("consumers belong to a workload stack (fleet.role workloads)");
    });

    it("a keys stack holds HMAC keys only, with no consumers of its own", () => {
        const password = keysEntries(1, "stable", { kind: "password", backend: { type: "elasticache", identifier: "titan-cache" } });
        const kind = issueAt(
            refused(() => parseConfig(rawConfigFrom(password), "keys")),
            "titan-secrets:secrets.titan-hmac.kind",
        );
        expect(kind.found).toBe('"password" in a stack whose fleet.role is "keys"');
        const withVerifiers = keysEntries(1, "stable", { verifiers: ["titan-sentinel"] });
        const verifiers = issueAt(
            refused(() => parseConfig(rawConfigFrom(withVerifiers), "keys")),
            "titan-secrets:secrets.titan-hmac.verifiers",
        );
        expect(verifiers.found).toBe("consumers in the key ring (titan-sentinel)");
        expect(verifiers.allowed).toContain("under consumers.titan-hmac");
        // The same stack without them parses: an HMAC key with no consumers is the key ring's normal case.
        const spec = parseConfig(rawConfigFrom(keysEntries(1, "stable")), "keys");
        expect(spec.secrets.get(FLEET_SECRET)).toMatchObject({ kind: "hmac", verifiers: [], presenters: [] });
        expect(spec.fleet).toEqual({ role: "keys", clusters: ["eu", "us"] });
    });

    it("a workloads stack takes the key ring's declaration and its own consumers", () => {
        const eu = parseConfig(rawConfigFrom(configs.eu), "eu", ring(2, "overlap").secrets).secrets.get(FLEET_SECRET);
        expect(eu).toMatchObject({
            kind: "hmac",
            generation: 2,
            stage: "overlap",
            verifiers: ["titan-execution-rs"],
            presenters: ["titan-brain"],
        });
        const us = parseConfig(rawConfigFrom(configs.us), "us", ring(2, "overlap").secrets).secrets.get(FLEET_SECRET);
        expect(us).toMatchObject({ generation: 2, stage: "overlap", verifiers: ["titan-sentinel"], presenters: ["titan-ai-quant"] });
    });

    it("a consumer of a secret the key ring does not declare is refused at consumers.<name>", () => {
        const entries = {
            ...configs.eu,
            "titan-secrets:consumers": { "titan-hmak": { verifiers: ["titan-execution-rs"], presenters: [] } },
        };
        const issue = issueAt(
            refused(() => parseConfig(rawConfigFrom(entries), "eu", ring(1, "stable").secrets)),
            "titan-secrets:consumers.titan-hmak",
        );
        expect(issue.found).toBe('consumers of "titan-hmak", which is not a secret of the key ring (did you mean "titan-hmac"?)');
        expect(issue.allowed).toBe("a secret the key stack declares: titan-hmac");
    });

    it("an unknown service under consumers is reported where the user wrote it, not under secrets", () => {
        const entries = {
            ...configs.eu,
            "titan-secrets:consumers": { [FLEET_SECRET]: { verifiers: ["titan-execution-r"], presenters: ["titan-brain"] } },
        };
        const issues = refused(() => parseConfig(rawConfigFrom(entries), "eu", ring(1, "stable").secrets));
        const issue = issueAt(issues, "titan-secrets:consumers.titan-hmac.verifiers[0]");
        expect(issue.found).toContain('"titan-execution-r", which is not a declared service (did you mean "titan-execution-rs"?)');
        expect(issues.filter((i) => i.key.startsWith("titan-secrets:secrets"))).toEqual([]);
    });
});

/** A rotation g1 -> overlap g2 across eu and us, each step from the ledgers the earlier steps wrote. */
function rotation() {
    const g1 = ring(1, "stable");
    const g2 = ring(2, "overlap");
    const eu1 = up("eu", g1, {}, [report("us")], T0).ledger;
    const us1 = up("us", g1, {}, [report("eu", eu1)], hours(1)).ledger;
    // The key ring makes g2; eu goes first while us's verifiers hold g1 only.
    const euVerifiers = up("eu", g2, eu1, [report("us", us1)], hours(24));
    const eu2 = euVerifiers.ledger;
    // us: its verifiers and presenters in one up (eu's verifiers hold g2).
    const usBoth = up("us", g2, us1, [report("eu", eu2)], hours(25));
    const us2 = usBoth.ledger;
    // eu again: its presenters' step.
    const euPresenters = up("eu", g2, eu2, [report("us", us2)], hours(26));
    return { g1, g2, eu1, us1, euVerifiers, eu2, usBoth, us2, euPresenters, eu3: euPresenters.ledger };
}

describe("followKeyRing: presenters wait for every cluster's verifiers", () => {
    it("the first cluster in an overlap holds its presenters on the previous generation", () => {
        const { euVerifiers, eu2 } = rotation();
        expect(euVerifiers.follow.issues).toEqual([]);
        expect(euVerifiers.follow.held).toEqual(new Map([[FLEET_SECRET, 1]]));
        const view = followedView(euVerifiers.spec.secrets.get(FLEET_SECRET)!, 1);
        expect(view.presenter).toEqual({ generations: [1], keyIds: ["titan-hmac-g1"] });
        expect(view.verifier).toEqual({ generations: [2, 1], keyIds: ["titan-hmac-g2", "titan-hmac-g1"] });
        // The plan delivers that view, and its ledger says so.
        expect(euVerifiers.view.presenter.generations).toEqual([1]);
        expect(euVerifiers.view.verifier.generations).toEqual([2, 1]);
        expect(eu2[FLEET_SECRET]).toMatchObject({ stage: "overlap", generation: 2, presentersHeldAt: 1 });
        expect(euVerifiers.plan.summary).toContain(
            "titan-hmac: presenters in eu stay on g1 until every cluster's verifiers hold g2; behind: us (verifiers g1, presenters g1; its last up followed stable at generation 1). Run pulumi up on eu again after us.",
        );
    });

    it("the same cluster again, before the others' verifiers moved, is refused naming them", () => {
        const { g2, eu2, us1 } = rotation();
        const spec = parseConfig(rawConfigFrom(configs.eu), "eu", g2.secrets);
        const follow = followKeyRing(spec, eu2, "eu", g2, [report("us", us1)]);
        expect(follow.held.size).toBe(0);
        const issue = issueAt(follow.issues, "titan-secrets:consumers.titan-hmac.presenters");
        expect(issue.found).toContain("the presenters' step of titan-hmac in eu");
        expect(issue.found).toContain("while verifiers in us (verifiers g1, presenters g1; its last up followed stable at generation 1)");
        expect(issue.allowed).toContain("run the verifiers' step on us first");
        // The up itself is refused with it.
        const issues = refused(() => up("eu", g2, eu2, [report("us", us1)], hours(24.5)));
        expect(issues.map((i) => i.key)).toContain("titan-secrets:consumers.titan-hmac.presenters");
    });

    it("the next cluster takes both steps at once, since the first one's verifiers hold the new generation", () => {
        const { usBoth, us2 } = rotation();
        expect(usBoth.follow).toEqual({ held: new Map(), issues: [], notes: [] });
        expect(usBoth.view.presenter.generations).toEqual([2]);
        expect(usBoth.view.verifier.generations).toEqual([2, 1]);
        expect(us2[FLEET_SECRET].presentersHeldAt).toBeUndefined();
    });

    it("then the first cluster's presenters follow", () => {
        const { euPresenters, eu3 } = rotation();
        expect(euPresenters.follow).toEqual({ held: new Map(), issues: [], notes: [] });
        expect(euPresenters.view.presenter).toEqual({ generations: [2], keyIds: ["titan-hmac-g2"] });
        expect(eu3[FLEET_SECRET]).toMatchObject({ stage: "overlap", generation: 2 });
        expect(eu3[FLEET_SECRET].presentersHeldAt).toBeUndefined();
        expect(ledgerView(eu3[FLEET_SECRET], FLEET_SECRET).presenter.generations).toEqual([2]);
    });

    it("a cluster with only presenters blocks no one's presenters; one with verifiers does", () => {
        const { eu1, us2 } = rotation();
        const g2 = ring(2, "overlap", {}, ["eu", "us", "ap"]);
        const presentersOnly = apEntries({ verifiers: [], presenters: ["titan-brain"] });
        const ap1 = up("ap", ring(1, "stable", {}, ["eu", "us", "ap"]), {}, [report("eu", eu1)], T0, presentersOnly).ledger;
        expect(ap1[FLEET_SECRET].verifiers).toEqual([]);
        const free = up("eu", g2, eu1, [report("us", us2), report("ap", ap1)], hours(24));
        expect(free.follow.held.size).toBe(0);
        expect(free.follow.issues).toEqual([]);
        expect(free.view.presenter.generations).toEqual([2]);

        const withVerifier = apEntries({ verifiers: ["titan-execution-rs"], presenters: ["titan-brain"] });
        const apV1 = up("ap", ring(1, "stable", {}, ["eu", "us", "ap"]), {}, [report("eu", eu1)], T0, withVerifier).ledger;
        const held = up("eu", g2, eu1, [report("us", us2), report("ap", apV1)], hours(24));
        expect(held.follow.held.get(FLEET_SECRET)).toBe(1);
        expect(held.follow.notes.join("\n")).toContain("behind: ap (verifiers g1");
    });

    it("a cluster's verifiers do not drop a generation another cluster's presenters still use", () => {
        const { g2, eu1, us1 } = rotation();
        // us goes first this time: held on g1; eu then takes both steps.
        const usHeld = up("us", g2, us1, [report("eu", eu1)], hours(24)).ledger;
        expect(usHeld[FLEET_SECRET].presentersHeldAt).toBe(1);
        const euFull = up("eu", g2, eu1, [report("us", usHeld)], hours(25)).ledger;
        expect(euFull[FLEET_SECRET].presentersHeldAt).toBeUndefined();

        const stable = ring(2, "stable");
        const issues = refused(() => up("eu", stable, euFull, [report("us", usHeld)], hours(26)));
        const issue = issueAt(issues, "titan-secrets:consumers.titan-hmac.verifiers");
        expect(issue.found).toContain("verifiers in eu that would stop accepting g1 (stable at generation 2)");
        expect(issue.found).toContain("presenters in us (verifiers g2+g1, presenters g1;");
        expect(issue.allowed).toBe("this step once no cluster's presenters use g1: run pulumi up on us first");
        expect(issues.map((i) => i.key)).not.toContain("titan-secrets:consumers.titan-hmac.presenters");

        // Once us's presenters have left g1, eu's verifiers drop it.
        const usDone = up("us", g2, usHeld, [report("eu", euFull)], hours(27)).ledger;
        const retired = up("eu", stable, euFull, [report("us", usDone)], hours(28));
        expect(retired.follow.issues).toEqual([]);
        expect(retired.view.verifier.generations).toEqual([2]);
    });

    it("a stack the key ring does not list is refused at fleet.keyRing", () => {
        const { g2, eu1, us1 } = rotation();
        const without = ring(2, "overlap", {}, ["us", "ap"]);
        const spec = parseConfig(rawConfigFrom(configs.eu), "eu", without.secrets);
        const follow = followKeyRing(spec, eu1, "eu", without, [report("us", us1)]);
        expect(follow.held.size).toBe(0);
        expect(follow.issues).toHaveLength(1);
        expect(follow.issues[0].key).toBe("titan-secrets:fleet.keyRing");
        expect(follow.issues[0].found).toBe("a key ring whose clusters are us, ap, without this stack (eu)");
        expect(refused(() => up("eu", without, eu1, [report("us", us1)], hours(24))).map((i) => i.key)).toContain(
            "titan-secrets:fleet.keyRing",
        );
        // Listed, the same step passes.
        expect(up("eu", g2, eu1, [report("us", us1)], hours(24)).follow.issues).toEqual([]);
    });

    it("another cluster's unreadable ledger row fails closed, not as 'holds nothing'", () => {
        const { g2, eu1, us1 } = rotation();
        const raw = JSON.parse(JSON.stringify(us1)) as Record<string, Record<string, unknown>>;
        raw[FLEET_SECRET].stageAppliedAt = "yesterday";
        const bad = report("us", raw);
        expect([...bad.unreadable.keys()]).toEqual([FLEET_SECRET]);
        const issues = refused(() => up("eu", g2, eu1, [bad], hours(24)));
        const issue = issueAt(issues, "titan-secrets:consumers.titan-hmac");
        expect(issue.found).toMatch(/^the ledger of cluster us, whose row for titan-hmac cannot be read \(stageAppliedAt: /);
        // A ledger that is not a map of secrets at all: the same.
        const spec = parseConfig(rawConfigFrom(configs.eu), "eu", g2.secrets);
        const whole = followKeyRing(spec, eu1, "eu", g2, [report("us", ["not", "a", "ledger"])]);
        expect(issueAt(whole.issues, issue.key).found).toBe(
            "the ledger of cluster us, whose row for titan-hmac cannot be read (it is a list, not a map of secrets)",
        );
        // A cluster that has not consumed the secret yet (no row) holds nothing: the step passes, presenters not held.
        const none = up("eu", g2, eu1, [report("us", {})], hours(24));
        expect(none.follow.issues).toEqual([]);
        expect(none.follow.held.size).toBe(0);
    });

    it("a compromised stage is never held: every cluster cuts over at once", () => {
        const { eu2, us1 } = rotation();
        const cut = up("eu", ring(3, "compromised", { incident: "INC-7" }), eu2, [report("us", us1)], hours(25));
        expect(cut.follow).toEqual({ held: new Map(), issues: [], notes: [] });
        expect(cut.view.presenter.generations).toEqual([3]);
        expect(cut.view.verifier.generations).toEqual([3]);
        expect(cut.ledger[FLEET_SECRET].presentersHeldAt).toBeUndefined();
        // Not even another cluster's unreadable row stops the emergency.
        const raw = JSON.parse(JSON.stringify(us1)) as Record<string, Record<string, unknown>>;
        raw[FLEET_SECRET].stageAppliedAt = "yesterday";
        const despite = up("eu", ring(3, "compromised", { incident: "INC-7" }), eu2, [report("us", raw)], hours(25));
        expect(despite.follow.issues).toEqual([]);
    });

    it("a cluster stops consuming a secret with removeSecrets, its own key; its consumers roll without it", () => {
        const { eu1, us1 } = rotation();
        const stable1 = ring(1, "stable");
        const without = { ...configs.eu, "titan-secrets:consumers": {} };
        // Dropping the consumers without announcing it: refused at consumers.<name>, with the fix.
        const issue = issueAt(
            refused(() => up("eu", stable1, eu1, [report("us", us1)], hours(1), without)),
            `titan-secrets:consumers.${FLEET_SECRET}`,
        );
        expect(issue.fix).toBe(`pulumi config set --path 'removeSecrets[0]' ${FLEET_SECRET}`);
        const removed = up("eu", stable1, eu1, [report("us", us1)], hours(1), {
            ...without,
            "titan-secrets:removeSecrets": [FLEET_SECRET],
        });
        expect(removed.plan.removals.map((r) => r.secret)).toEqual([FLEET_SECRET]);
        expect(
            removed.plan.workloads
                .filter((w) => w.changed)
                .map((w) => w.service.name)
                .sort(),
        ).toEqual(["titan-brain", "titan-execution-rs"]);
        expect(Object.keys(removed.ledger)).toEqual([]);
    });
});

describe("keyRingGuard: a generation leaves the key ring only once no cluster's presenters use it", () => {
    /** The key stack's ledgers: stable g1, then overlap g2. */
    function keyLedgers() {
        const k1 = keysUp(keysEntries(1, "stable"), {}, [], T0).ledger;
        const k2 = keysUp(keysEntries(2, "overlap"), k1, [], hours(23)).ledger;
        return { k1, k2 };
    }

    it("stable g2 after overlap g2 is refused while a cluster's presenters use g1, naming it", () => {
        const { eu2, us1, us2 } = rotation();
        const { k2 } = keyLedgers();
        const { guard } = keysUp(keysEntries(2, "stable"), k2, [report("eu", eu2), report("us", us2)], hours(25));
        expect(guard.issues).toHaveLength(1);
        expect(guard.issues[0].key).toBe("titan-secrets:secrets.titan-hmac.stage");
        expect(guard.issues[0].found).toBe(
            "stable at generation 2, which takes g1 out of the key ring while presenters in eu (verifiers g2+g1, presenters g1; its last up followed overlap at generation 2) still use it",
        );
        expect(guard.issues[0].allowed).toContain("run pulumi up on eu first");

        const both = keysUp(keysEntries(2, "stable"), k2, [report("eu", eu2), report("us", us1)], hours(25)).guard;
        expect(both.issues[0].allowed).toContain("run pulumi up on eu, us first");
    });

    it("allowed once every cluster's presenters are at g2; returns each cluster's standing", () => {
        const { eu3, us2 } = rotation();
        const { k2 } = keyLedgers();
        const { guard } = keysUp(keysEntries(2, "stable"), k2, [report("eu", eu3), report("us", us2)], hours(27));
        expect(guard.issues).toEqual([]);
        expect(guard.standings).toEqual(
            new Map([
                [
                    FLEET_SECRET,
                    {
                        eu: { verifiers: [2, 1], presenters: [2], stage: "overlap", generation: 2 },
                        us: { verifiers: [2, 1], presenters: [2], stage: "overlap", generation: 2 },
                    },
                ],
            ]),
        );
    });

    it("standings are returned even where nothing leaves, held presenters included", () => {
        const { eu2, us1 } = rotation();
        const { k2 } = keyLedgers();
        const { guard } = keysUp(keysEntries(2, "overlap"), k2, [report("eu", eu2), report("us", us1)], hours(24));
        expect(guard.issues).toEqual([]);
        expect(guard.standings.get(FLEET_SECRET)).toEqual({
            eu: { verifiers: [2, 1], presenters: [1], stage: "overlap", generation: 2 },
            us: { verifiers: [1], presenters: [1], stage: "stable", generation: 1 },
        });
    });

    it("a revert to stable g1 is refused while presenters use g2, allowed once they followed the revert", () => {
        const { eu3, us2 } = rotation();
        const { k2 } = keyLedgers();
        const kRevert = keysUp(keysEntries(2, "revert"), k2, [report("eu", eu3), report("us", us2)], hours(27));
        expect(kRevert.guard.issues).toEqual([]);

        const early = keysUp(keysEntries(1, "stable"), kRevert.ledger, [report("eu", eu3), report("us", us2)], hours(28)).guard;
        expect(early.issues.map((i) => i.key)).toEqual(["titan-secrets:secrets.titan-hmac.stage"]);
        expect(early.issues[0].found).toContain("stable at generation 1, which takes g2 out of the key ring while presenters in eu");

        const revert = ring(2, "revert");
        const euRev = up("eu", revert, eu3, [report("us", us2)], hours(28)).ledger;
        const usRev = up("us", revert, us2, [report("eu", euRev)], hours(29)).ledger;
        expect(ledgerView(euRev[FLEET_SECRET], FLEET_SECRET).presenter.generations).toEqual([1]);
        const after = keysUp(keysEntries(1, "stable"), kRevert.ledger, [report("eu", euRev), report("us", usRev)], hours(30)).guard;
        expect(after.issues).toEqual([]);
    });

    it("a compromised key leaves at once, whatever the clusters hold", () => {
        const { eu2, us2 } = rotation();
        const { k2 } = keyLedgers();
        const bad = report("eu", { [FLEET_SECRET]: { generation: "two" } });
        const { guard } = keysUp(
            keysEntries(3, "compromised", { incident: "INC-7" }),
            k2,
            [report("eu", eu2), report("us", us2), bad],
            hours(25),
        );
        expect(guard.issues).toEqual([]);
        expect(Object.keys(guard.standings.get(FLEET_SECRET)!)).toEqual(["eu", "us"]);
    });

    it("a cluster's unreadable row refuses a generation leaving", () => {
        const { us2 } = rotation();
        const { k2 } = keyLedgers();
        const bad = report("eu", { [FLEET_SECRET]: { generation: "two" } });
        const { guard } = keysUp(keysEntries(2, "stable"), k2, [bad, report("us", us2)], hours(27));
        expect(guard.issues.map((i) => i.key)).toEqual(["titan-secrets:secrets.titan-hmac.stage"]);
        expect(guard.issues[0].found).toMatch(/^the ledger of cluster eu, whose row for titan-hmac cannot be read/);
    });
});

describe("keyRingGuard: a secret leaves the key ring only once no cluster consumes it", () => {
    it("refuses the removal while a cluster's ledger has the secret, naming it; allows it once none has", () => {
        const { eu1, us1 } = rotation();
        const keyLedger = keysUp(keysEntries(1, "stable"), Object.create(null) as Ledger, [], T0).ledger;
        const gone = { ...keysEntries(1, "stable"), "titan-secrets:secrets": {}, "titan-secrets:removeSecrets": [FLEET_SECRET] };
        const spec = parseConfig(rawConfigFrom(gone), "keys");
        const refusedNow = keyRingGuard(spec, keyLedger, [report("eu", eu1), report("us", us1)]);
        const issue = issueAt(refusedNow.issues, `titan-secrets:secrets.${FLEET_SECRET}`);
        expect(issue.found).toBe("its removal from the key ring while eu, us still consume it");
        expect(keyRingGuard(spec, keyLedger, [report("eu", {}), report("us", {})]).issues).toEqual([]);
    });
});

describe("the ledger keeps what the fleet wrote", () => {
    it("readLedger keeps presentersHeldAt and clusters", () => {
        const { eu2, us2 } = rotation();
        const keys = {
            [FLEET_SECRET]: {
                ...eu2[FLEET_SECRET],
                presentersHeldAt: undefined,
                clusters: {
                    eu: { verifiers: [2, 1], presenters: [1], stage: "overlap", generation: 2 },
                    us: { verifiers: [2, 1], presenters: [2], stage: "overlap", generation: 2 },
                },
            },
        };
        for (const ledger of [eu2, us2, keys]) {
            const raw = JSON.parse(JSON.stringify(ledger)) as unknown;
            const read = readLedger(raw);
            expect(read.unreadable).toEqual(new Map());
            expect(JSON.parse(JSON.stringify(read.ledger))).toEqual(raw);
        }
        expect(readLedger(JSON.parse(JSON.stringify(eu2))).ledger[FLEET_SECRET].presentersHeldAt).toBe(1);
        expect(readLedger(JSON.parse(JSON.stringify(keys))).ledger[FLEET_SECRET].clusters?.eu.presenters).toEqual([1]);
        // A standing that is not one is an unreadable row, not a dropped field.
        const broken = {
            [FLEET_SECRET]: { ...keys[FLEET_SECRET], clusters: { eu: { verifiers: [2], presenters: [2], stage: "retired" } } },
        };
        expect([...readLedger(JSON.parse(JSON.stringify(broken))).unreadable.keys()]).toEqual([FLEET_SECRET]);
    });

    it("ledgerView of a held row gives presenters the held generation", () => {
        const { eu2 } = rotation();
        const row = eu2[FLEET_SECRET];
        expect(ledgerView(row, FLEET_SECRET)).toMatchObject({
            verifier: { generations: [2, 1], keyIds: ["titan-hmac-g2", "titan-hmac-g1"] },
            presenter: { generations: [1], keyIds: ["titan-hmac-g1"] },
            live: [2, 1],
        });
        const unheld = { ...row, presentersHeldAt: undefined };
        expect(ledgerView(unheld, FLEET_SECRET).presenter.generations).toEqual([2]);
    });
});

describe("readKeyRing", () => {
    it("a key stack with no keyRing output is refused, telling to run it first", () => {
        for (const raw of [undefined, null]) {
            const issue = readKeyRing(raw, "keys");
            expect(issue).toEqual({
                key: "titan-secrets:fleet.keyRing",
                found: '"keys", which exports no key ring (its stack has no keyRing output)',
                allowed: "a key stack (fleet.role keys) after its first pulumi up: run pulumi up -s keys first",
            });
        }
    });

    it("an unreadable keyRing output is refused, never read as 'no secrets'", () => {
        // JSON.parse keeps an own "__proto__" key: a secret of that name would vanish from a plain record.
        const reserved = JSON.parse('{"clusters":["eu"],"secrets":{"__proto__":{"kind":"hmac"}}}') as unknown;
        const reservedField = JSON.parse('{"clusters":["eu"],"secrets":{"k":{"kind":"hmac","__proto__":{"stage":"overlap"}}}}') as unknown;
        for (const raw of [
            { clusters: [], secrets: {} },
            { clusters: ["eu"] },
            { clusters: "eu", secrets: {} },
            "keys",
            reserved,
            reservedField,
        ]) {
            const issue = readKeyRing(raw, "keys") as ConfigIssue;
            expect(issue.key, JSON.stringify(raw)).toBe("titan-secrets:fleet.keyRing");
            expect(issue.found).toMatch(/^"keys", whose keyRing output cannot be read \(/);
        }
    });

    it("a key stack's export reads back as it is", () => {
        const exported = ring(2, "overlap");
        expect(readKeyRing(JSON.parse(JSON.stringify(exported)), "keys")).toEqual(exported);
    });
});
