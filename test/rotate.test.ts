// The rotate command's pure parts: argument parsing, the stage each command
// writes and its edits, the legal next steps with the overlap guard, status
// rows, the plan report and its markdown, and YAML edits that keep every
// other byte of the stack file.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, Ledger, NO_EXCHANGE_KEYS, formatDuration, parseConfig, parseInstant, planRotation } from "../model";
import { parseArgs } from "../cli/rotate/args";
import { UsageError } from "../cli/common";
import { ledgerFromJson } from "../cli/rotate/ledgerSource";
import { formatPlanMarkdown, formatPlanText, planReport } from "../cli/rotate/planReport";
import { LayoutError, StackFileError, applyEdits, checkEdited, parseStackFile, rawConfigOf } from "../cli/rotate/stackFile";
import { formatStatus, statusReport } from "../cli/rotate/status";
import { advanceTarget, compromiseTarget, editsFor, legalNextSteps, revertTarget } from "../cli/rotate/steps";
import { relative } from "../cli/rotate/time";
import { SecretConfig, hmac, titanConfig } from "./support/fleet";
import { REPO } from "../harness/stackFiles";

const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const days = (d: number) => hours(d * 24);
const meta = { stack: "dev", file: "Pulumi.dev.yaml", ledgerSource: "file", ledgerNote: "ledger from test" };

function specOf(secrets: Record<string, SecretConfig>) {
    return parseConfig(titanConfig(secrets));
}

/** The ledger after applying each (config, time) in turn. */
function ledgerAfter(...steps: [Record<string, SecretConfig>, Date][]): Ledger {
    let ledger: Ledger = {};
    for (const [secrets, at] of steps) ledger = planRotation(specOf(secrets), ledger, at).ledger;
    return ledger;
}

describe("time", () => {
    it("formats durations and relative times", () => {
        expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
        expect(formatDuration(5 * 3_600_000 + 12 * 60_000)).toBe("5h 12m");
        expect(formatDuration(-12 * 60_000)).toBe("12m");
        expect(relative(hours(2), T0)).toBe("in 2h 0m");
        expect(relative(hours(-26), T0)).toBe("1d 2h ago");
        expect(parseInstant("2026-11-01T00:00:00Z")).toEqual(T0);
        expect(parseInstant("yesterday")).toBeUndefined();
        // Not days of the calendar: Date.parse alone would roll them over into March.
        expect(parseInstant("2026-02-31")).toBeUndefined();
        expect(parseInstant("2026-02-29T00:00:00Z")).toBeUndefined();
        expect(parseInstant("2028-02-29T00:00:00Z")).toEqual(new Date(Date.UTC(2028, 1, 29)));
        expect(parseInstant("2026-11-01")).toEqual(T0);
        expect(parseInstant("2026-11-01T02:00:00+02:00")).toEqual(T0);
    });
});

describe("arguments", () => {
    it("parses commands, secrets and options", () => {
        expect(parseArgs(["advance", "titan-hmac", "--stack", "prod", "--now=2026-11-01T00:00:00Z", "--json"])).toEqual({
            command: "advance",
            secret: "titan-hmac",
            values: { stack: "prod", now: "2026-11-01T00:00:00Z" },
            flags: { json: true },
            now: new Date("2026-11-01T00:00:00Z"),
        });
        expect(parseArgs(["--help"]).flags.help).toBe(true);
    });
    it.each([
        [[], "no command given"],
        [["rotate"], 'unknown command "rotate"; commands: status, plan, advance, revert, compromise, recover, run'],
        [["advance"], "advance needs the name of a secret"],
        [["status", "extra"], 'unexpected argument "extra"'],
        [
            ["status", "--markdown"],
            "--markdown does not apply to status; it takes: --stack, --dir, --file, --ledger, --backend, --no-ledger, --now, --json, --help, --check, --due-within",
        ],
        [["plan", "--stack"], "--stack needs a value"],
        [["compromise", "s"], "compromise needs --incident <incident ID>"],
        [["status", "--bogus"], "unknown option --bogus"],
        [["plan", "--json", "--markdown"], "give --json or --markdown, not both"],
        [["status", "--due-within", "soon"], '--due-within needs a whole number of days from 0 to 3650 in decimal digits, found "soon"'],
    ])("refuses %j: %s", (argv, message) => {
        expect(() => parseArgs(argv as string[])).toThrow(new UsageError(message));
    });
});

describe("the stage each command writes", () => {
    it("advance: stable N -> overlap N+1 -> stable N+1; revert N -> stable N-1; compromised N -> stable N", () => {
        expect(advanceTarget({ stage: "stable", generation: 1 })).toEqual({ stage: "overlap", generation: 2 });
        expect(advanceTarget({ stage: "overlap", generation: 2 })).toEqual({ stage: "stable", generation: 2 });
        expect(advanceTarget({ stage: "revert", generation: 2 })).toEqual({ stage: "stable", generation: 1 });
        expect(advanceTarget({ stage: "compromised", generation: 3 })).toEqual({ stage: "stable", generation: 3 });
        expect(advanceTarget({ stage: "stable", generation: 1 }, 1)).toEqual({ stage: "stable", generation: 2 });
    });
    it("revert only from overlap; compromise at a fresh generation", () => {
        expect(revertTarget({ stage: "overlap", generation: 2 })).toEqual({ stage: "revert", generation: 2 });
        expect(revertTarget({ stage: "stable", generation: 2 })).toBeUndefined();
        expect(compromiseTarget({ stage: "overlap", generation: 2 })).toEqual({ stage: "compromised", generation: 3 });
    });
});

describe("edits", () => {
    const spec = (cfg: SecretConfig) => specOf({ s: cfg }).secrets.get("s")!;
    const keys = (r: ReturnType<typeof editsFor>) => r.edits.map((e) => [e.key, e.value]);

    it("removes force and incident where they no longer apply", () => {
        expect(keys(editsFor(spec(hmac(1, "stable", { force: true })), { force: true }, { stage: "overlap", generation: 2 }, {}))).toEqual([
            ["generation", 2],
            ["stage", "overlap"],
            ["force", undefined],
        ]);
        expect(
            keys(
                editsFor(
                    spec(hmac(2, "compromised", { incident: "INC-1" })),
                    { incident: "INC-1" },
                    { stage: "stable", generation: 2 },
                    {},
                ),
            ),
        ).toEqual([
            ["stage", "stable"],
            ["incident", undefined],
        ]);
    });
    it("keeps force when retiring the secondary, and writes it with --force", () => {
        expect(keys(editsFor(spec(hmac(2, "overlap", { force: true })), { force: true }, { stage: "stable", generation: 2 }, {}))).toEqual([
            ["stage", "stable"],
        ]);
        expect(keys(editsFor(spec(hmac(2, "overlap")), {}, { stage: "stable", generation: 2 }, { force: true }))).toEqual([
            ["stage", "stable"],
            ["force", true],
        ]);
        expect(editsFor(spec(hmac(1, "stable")), {}, { stage: "overlap", generation: 2 }, { force: true }).problems).toEqual([
            "--force applies only to retiring the secondary (overlap -> stable at the same generation), not to overlap at generation 2",
        ]);
    });
    it("gives a returning generation number a key ID no retired key had", () => {
        const back = spec(hmac(2, "stable"));
        expect(keys(editsFor(back, {}, { stage: "overlap", generation: 3 }, { retired: ["s-g3"] }))).toEqual([
            ["generation", 3],
            ["stage", "overlap"],
            ["keyId", "s-g3-2"],
            ["previousKeyId", "s-g2"],
        ]);
        expect(keys(editsFor(back, {}, { stage: "overlap", generation: 3 }, { retired: ["s-g1"] }))).toEqual([
            ["generation", 3],
            ["stage", "overlap"],
        ]);
    });

    it("moves declared key IDs with the generation", () => {
        const declared = spec(hmac(1, "stable", { keyId: "brain-a" }));
        // Without --key-id the new key takes the default, and the secondary keeps its own.
        expect(keys(editsFor(declared, { keyId: "brain-a" }, { stage: "overlap", generation: 2 }, {}))).toEqual([
            ["generation", 2],
            ["stage", "overlap"],
            ["keyId", undefined],
            ["previousKeyId", "brain-a"],
        ]);
        expect(keys(editsFor(declared, { keyId: "brain-a" }, { stage: "overlap", generation: 2 }, { keyId: "brain-b" }))).toEqual([
            ["generation", 2],
            ["stage", "overlap"],
            ["keyId", "brain-b"],
            ["previousKeyId", "brain-a"],
        ]);
        const reverted = spec(hmac(2, "revert", { keyId: "brain-b", previousKeyId: "brain-a" }));
        expect(keys(editsFor(reverted, { keyId: "brain-b", previousKeyId: "brain-a" }, { stage: "stable", generation: 1 }, {}))).toEqual([
            ["generation", 1],
            ["stage", "stable"],
            ["keyId", "brain-a"],
            ["previousKeyId", undefined],
        ]);
    });
    it("compromise writes the incident", () => {
        expect(keys(editsFor(spec(hmac(1, "stable")), {}, { stage: "compromised", generation: 2 }, { incident: "INC-9" }))).toEqual([
            ["generation", 2],
            ["stage", "compromised"],
            ["incident", "INC-9"],
        ]);
    });
});

describe("legal next steps and the overlap guard", () => {
    const ledger = ledgerAfter([{ s: hmac(1, "stable") }, days(-10)], [{ s: hmac(2, "overlap") }, hours(-3)]);
    it("gives the earliest time of retiring the secondary, and allows the rest now", () => {
        const steps = legalNextSteps(specOf({ s: hmac(2, "overlap") }).secrets.get("s")!, ledger.s, T0);
        expect(steps[0]).toEqual({
            stage: "stable",
            generation: 2,
            command: "advance",
            allowedFrom: hours(21).toISOString(),
            allowedNow: false,
            note: "waits minOverlapHours (24) after overlap was applied",
        });
        expect(steps[1]).toMatchObject({ stage: "revert", generation: 2, command: "revert", allowedNow: true });
        expect(steps.map((s) => `${s.stage}@${s.generation}`)).toEqual([
            "stable@2",
            "revert@2",
            "compromised@3",
            "compromised@2",
            "compromised@1",
        ]);
    });
    it("force: true allows it now", () => {
        const steps = legalNextSteps(specOf({ s: hmac(2, "overlap", { force: true }) }).secrets.get("s")!, ledger.s, T0);
        expect(steps[0]).toMatchObject({ allowedNow: true, allowedFrom: T0.toISOString() });
    });
});

describe("status rows", () => {
    it("dates a secret by its presenters' key: age, due date, overdue", () => {
        const ledger = ledgerAfter([{ s: hmac(1, "stable") }, days(-100)]);
        const r = statusReport(specOf({ s: hmac(1, "stable") }), ledger, T0, { ...meta, dueSoonDays: 14 });
        expect(r.overdue).toEqual(["s"]);
        expect(r.secrets[0]).toMatchObject({
            ageDays: 100,
            dueAt: days(-10).toISOString(),
            dueInDays: -10,
            overdue: true,
            pending: false,
            firstSeen: false,
        });
        expect(formatStatus(r)).toContain("OVERDUE by 10d");
    });
    it("marks a pending config change and lists no step until it is applied", () => {
        const ledger = ledgerAfter([{ s: hmac(1, "stable") }, days(-80)]);
        const r = statusReport(specOf({ s: hmac(2, "overlap") }), ledger, T0, { ...meta, dueSoonDays: 14 });
        expect(r.secrets[0]).toMatchObject({ pending: true, dueSoon: true, next: [] });
        expect(r.dueSoon).toEqual(["s"]);
        expect(r.secrets[0].notes[0]).toBe(
            "pending: the stack file says overlap at generation 2, the last up applied stable at generation 1; run pulumi up (or revert the file) before the next step",
        );
    });
});

describe("plan report", () => {
    it("gives the waves, who restarts and who does not", () => {
        const ledger = ledgerAfter([{ "titan-hmac": hmac(1, "stable") }, days(-1)]);
        const r = planReport(specOf({ "titan-hmac": hmac(2, "overlap") }), ledger, T0, meta, NO_EXCHANGE_KEYS);
        expect(r.waves).toEqual([["titan-execution-rs", "titan-sentinel"], ["titan-brain"]]);
        expect(r.notRestarted).toEqual(["titan-ai-quant"]);
        expect(r.changes).toEqual([
            {
                secret: "titan-hmac",
                kind: "hmac",
                from: { generation: 1, stage: "stable" },
                to: { generation: 2, stage: "overlap" },
                moving: true,
                order: "verifiers first, then presenters",
                verifiers: {
                    generations: [2, 1],
                    keyIds: ["titan-hmac-g2", "titan-hmac-g1"],
                    rolling: [
                        { workload: "titan-execution-rs", wave: 1 },
                        { workload: "titan-sentinel", wave: 1 },
                    ],
                    unchanged: [],
                },
                presenters: { generations: [2], keyIds: ["titan-hmac-g2"], rolling: [{ workload: "titan-brain", wave: 2 }], unchanged: [] },
            },
        ]);
        expect(formatPlanText(r)).toContain("  1. titan-execution-rs, titan-sentinel\n  2. titan-brain\n");
        expect(formatPlanMarkdown(r)).toContain(
            "| `titan-hmac` | stable at generation 1 | overlap at generation 2 | verifiers first, then presenters | `titan-hmac-g2`, `titan-hmac-g1`: `titan-execution-rs` (wave 1), `titan-sentinel` (wave 1) | `titan-hmac-g2`: `titan-brain` (wave 2) |",
        );
    });
    it("turns the program's refusal into the report, with its exact message", () => {
        const ledger = ledgerAfter([{ "titan-hmac": hmac(1, "stable") }, days(-1)], [{ "titan-hmac": hmac(2, "overlap") }, hours(-1)]);
        const spec = specOf({ "titan-hmac": hmac(2, "stable") });
        const r = planReport(spec, ledger, T0, meta, NO_EXCHANGE_KEYS);
        let expected = "";
        try {
            planRotation(spec, ledger, T0);
        } catch (e) {
            expected = (e as ConfigError).message;
        }
        expect(r.refused).toBe(true);
        expect(r.refusal!.message).toBe(expected);
        expect(formatPlanMarkdown(r)).toContain(":no_entry: **Refused.**");
        expect(formatPlanMarkdown(r)).toContain(
            "- `titan-secrets:secrets.titan-hmac.stage`: found stable at generation 2 only 1h 0m after overlap at generation 2 was applied",
        );
    });
    it("says so when nothing moves", () => {
        const ledger = ledgerAfter([{ "titan-hmac": hmac(1, "stable") }, days(-1)]);
        const r = planReport(specOf({ "titan-hmac": hmac(1, "stable") }), ledger, T0, meta, NO_EXCHANGE_KEYS);
        expect(r.changes).toEqual([]);
        expect(formatPlanMarkdown(r)).toContain("No rotation changes");
    });
});

describe("stack file edits", () => {
    const files = ["dev", "prod"].map((s) => join(REPO, `Pulumi.${s}.yaml`));

    it.each(files)("%s reads back byte for byte, and an edit changes only its own lines", (path) => {
        const text = readFileSync(path, "utf8");
        const file = parseStackFile(path, text);
        expect(applyEdits(file, [])).toBe(text);
        const edited = applyEdits(file, [
            { secret: "titan-hmac", key: "generation", value: 2 },
            { secret: "titan-hmac", key: "stage", value: "overlap" },
        ]);
        const a = text.split("\n");
        const b = edited.split("\n");
        expect(b.length).toBe(a.length);
        expect(a.filter((line, i) => line !== b[i])).toEqual(["      generation: 1", "      stage: stable"]);
        expect(b.filter((line, i) => line !== a[i])).toEqual(["      generation: 2", "      stage: overlap"]);
        expect(rawConfigOf(parseStackFile(path, edited)).secrets).toMatchObject({ "titan-hmac": { generation: 2, stage: "overlap" } });
    });

    it("edits a file in the layout `pulumi config set` writes (unindented lists) byte for byte elsewhere", () => {
        const text = [
            "config:",
            "  titan-secrets:secrets:",
            "    s:",
            "      kind: hmac   # comment kept",
            "      generation: 1",
            "      stage: 'stable'",
            "      force: true",
            "      verifiers:",
            "      - a",
            "      presenters:",
            "      - b",
            "  # trailing comment",
            "",
        ].join("\n");
        const out = applyEdits(parseStackFile("x.yaml", text), [
            { secret: "s", key: "generation", value: 2 },
            { secret: "s", key: "stage", value: "overlap" },
            { secret: "s", key: "force", value: undefined },
            { secret: "s", key: "incident", value: "INC 1" },
        ]);
        expect(out).toBe(
            [
                "config:",
                "  titan-secrets:secrets:",
                "    s:",
                "      kind: hmac   # comment kept",
                "      generation: 2",
                "      stage: 'overlap'",
                "      verifiers:",
                "      - a",
                "      presenters:",
                "      - b",
                '      incident: "INC 1"',
                "  # trailing comment",
                "",
            ].join("\n"),
        );
    });

    it("refuses (LayoutError) an edit it cannot make in place", () => {
        const text =
            "config:\n  titan-secrets:secrets:\n    s: {kind: hmac,  generation: 1, stage: stable, verifiers: [a], presenters: [b]}\n";
        expect(() => applyEdits(parseStackFile("x.yaml", text), [{ secret: "s", key: "incident", value: "I" }])).toThrow(LayoutError);
    });

    it("a file that is not YAML is refused with where, never with its text (it may hold a pasted key)", () => {
        const text = 'config:\n  titan-secrets:exchangeKeys:\n    apiKey: "sk-live-0123456789\n  other: [1,\n';
        let message = "";
        try {
            parseStackFile("Pulumi.dev.yaml", text);
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toMatch(/^Pulumi\.dev\.yaml is not valid YAML at line \d+, column \d+ \(missing char\)/);
        for (const line of text.split("\n").filter((l) => l.trim().length > 3)) expect(message).not.toContain(line.trim());
        expect(message).not.toContain("sk-live");
    });
});

describe("ledger files", () => {
    it("accepts the ledger itself or every output", () => {
        const ledger = { s: { kind: "hmac" } };
        expect(ledgerFromJson(ledger)).toBe(ledger);
        expect(ledgerFromJson({ ledger })).toBe(ledger);
        const named = { ledger: { kind: "hmac" } }; // a secret called "ledger"
        expect(ledgerFromJson(named)).toBe(named);
    });
});

describe("stack file edits: shared nodes, merge keys, alias bombs, encodings", () => {
    /** Two HMAC secrets; `one` and `two` are the lines of each secret's map (indented by 6). */
    const stack = (one: string[], two: string[], extra: string[] = []) =>
        [
            "config:",
            "  titan-secrets:kubernetes:",
            "    renderDir: rendered",
            ...extra,
            "  titan-secrets:secrets:",
            "    one:",
            ...one.map((l) => `      ${l}`),
            "    two:",
            ...two.map((l) => `      ${l}`),
            "",
        ].join("\n");
    const body = ["kind: hmac", "verifiers: [a]", "presenters: [b]"];
    const advance = [
        { secret: "one", key: "generation", value: 2 },
        { secret: "one", key: "stage", value: "overlap" },
    ];
    const editError = (text: string, edits: Parameters<typeof applyEdits>[1] = advance) => {
        try {
            applyEdits(parseStackFile("Pulumi.dev.yaml", text), edits);
        } catch (e) {
            return e as Error;
        }
        throw new Error("the edit was made");
    };

    it("refuses a generation/stage that two secrets share through an anchor, from either side, naming both and the fix", () => {
        const text = stack(["generation: &g 1", "stage: &s stable", ...body], ["generation: *g", "stage: *s", ...body]);
        const e = editError(text);
        expect(e).toBeInstanceOf(LayoutError);
        expect(e.message).toContain("titan-secrets:secrets.one.generation is shared through the YAML anchor &g");
        expect(e.message).toContain("used by *g at titan-secrets:secrets.two.generation");
        expect(e.message).toContain("secrets sharing it: one, two");
        expect(e.message).toContain("would also change titan-secrets:secrets.two");
        expect(e.message).toContain("replace *g with the value, drop &g");
        const fromTwo = editError(text, [{ secret: "two", key: "stage", value: "overlap" }]);
        expect(fromTwo).toBeInstanceOf(LayoutError);
        expect(fromTwo.message).toContain("titan-secrets:secrets.two.stage is shared through the YAML anchor &s");
        expect(fromTwo.message).toContain("would silently stop sharing it with titan-secrets:secrets.one");
    });

    it("refuses a secret map shared whole (two: *one) and a merge key (<<), and reads the merge as Pulumi does", () => {
        const whole = stack(["&one", "generation: 1", "stage: stable", ...body], []).replace("    two:\n", "    two: *one\n");
        expect(editError(whole).message).toContain("titan-secrets:secrets.one is shared through the YAML anchor &one");
        expect(editError(whole, [{ secret: "two", key: "stage", value: "overlap" }]).message).toContain(
            "titan-secrets:secrets.two is shared through the YAML anchor &one",
        );
        const merged = stack(["&one", "generation: 1", "stage: stable", ...body], ["<<: *one", "generation: 3"]);
        expect(rawConfigOf(parseStackFile("x.yaml", merged)).secrets).toMatchObject({
            two: { kind: "hmac", generation: 3, stage: "stable", verifiers: ["a"] },
        });
        const two = editError(merged, [{ secret: "two", key: "stage", value: "overlap" }]);
        expect(two).toBeInstanceOf(LayoutError);
        expect(two.message).toContain("titan-secrets:secrets.two uses a YAML merge key (<<)");
        expect(two.message).toContain("remove the << line");
        expect(editError(merged).message).toContain("used by *one at titan-secrets:secrets.two.<<");
    });

    it("allows an edit next to anchors it does not touch (a shared list of verifiers, an alias outside the secrets)", () => {
        const text = stack(
            ["generation: 1", "stage: stable", "kind: hmac", "verifiers: &v [a]", "presenters: [b]"],
            ["generation: 1", "stage: stable", "kind: hmac", "verifiers: *v", "presenters: [b]"],
        );
        const out = applyEdits(parseStackFile("x.yaml", text), advance);
        expect(out).toBe(text.replace("generation: 1\n      stage: stable", "generation: 2\n      stage: overlap"));
    });

    it("refuses an alias bomb and an alias without its anchor with a message, not a ReferenceError", () => {
        const bomb = [
            "a: &a [x, x, x, x, x, x, x, x, x]",
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
            "config: {x: [*c, *c, *c, *c, *c, *c, *c, *c, *c]}",
            "",
        ].join("\n");
        expect(() => parseStackFile("x.yaml", bomb)).toThrow(StackFileError);
        expect(() => parseStackFile("x.yaml", bomb)).toThrow(/x\.yaml: its YAML aliases expand past 100 copies/);
        expect(() => parseStackFile("x.yaml", "config:\n  a: *nope\n")).toThrow(/x\.yaml: the alias \*nope has no anchor &nope before it/);
    });

    it("refuses a config that is not a map, and a secret that is not a map", () => {
        for (const [config, found] of [
            ["config: [a, b]\n", "a list"],
            ["config: 5\n", "a number"],
            ["config:\n", "nothing"],
            ["config: !!binary aGVsbG8=\n", "a tagged value (!!binary, !!set, !!omap, ...)"],
            ["config: !!set {a, b}\n", "a tagged value (!!binary, !!set, !!omap, ...)"],
            ["config: !!omap [a: 1]\n", "a tagged value (!!binary, !!set, !!omap, ...)"],
        ])
            expect(() => parseStackFile("x.yaml", config)).toThrow(
                `x.yaml: "config" holds ${found}, not a map of config keys (titan-secrets:<key>: <value>)`,
            );
        const scalar = stack(["generation: 1", "stage: stable", ...body], []).replace("    two:\n", "    two: 5\n");
        const e = editError(scalar, [{ secret: "two", key: "stage", value: "overlap" }]);
        expect(e).toBeInstanceOf(LayoutError);
        expect(e.message).toContain("titan-secrets:secrets.two is not a map of the secret's keys");
    });

    it("keeps a byte order mark and CRLF line endings, also on a line it adds", () => {
        const text =
            "\uFEFF" +
            stack(["generation: 1", "stage: stable", ...body], ["generation: 1", "stage: stable", ...body]).replace(/\n/g, "\r\n");
        const out = applyEdits(parseStackFile("x.yaml", text), [...advance, { secret: "one", key: "incident", value: "INC-1" }]);
        expect(out.startsWith("\uFEFF")).toBe(true);
        expect(out).not.toMatch(/[^\r]\n/);
        expect(out).toBe(
            text
                .replace("generation: 1\r\n      stage: stable", "generation: 2\r\n      stage: overlap")
                .replace("presenters: [b]\r\n", "presenters: [b]\r\n      incident: INC-1\r\n"),
        );
    });

    it("an edit whose result would not read back as asked is refused by the invariant (a tag kept on the value)", () => {
        const text = stack(["generation: !!str 1", "stage: stable", ...body], ["generation: 1", "stage: stable", ...body]);
        const e = editError(text, [{ secret: "one", key: "generation", value: 2 }]);
        expect(e).toBeInstanceOf(LayoutError);
        expect(e.message).toBe(
            "Pulumi.dev.yaml: the edit of one would not read back as the values asked for (an explicit tag such as !!str on a value?); nothing was written; make it by hand: set secrets.one.generation to 2",
        );
    });

    it("the invariant refuses a text that changes another secret or config outside the secrets, or loses the BOM or the line endings", () => {
        const text = stack(["generation: &g 1", "stage: stable", ...body], ["generation: *g", "stage: stable", ...body]);
        const file = parseStackFile("x.yaml", text);
        const edits = [{ secret: "one", key: "generation", value: 2 }];
        // What the Document API alone writes: the anchored value, so both secrets move.
        const both = text.replace("&g 1", "&g 2");
        expect(() => checkEdited(file, edits, both)).toThrow(LayoutError);
        expect(() => checkEdited(file, edits, both)).toThrow(
            "x.yaml: the edit of one would also change titan-secrets:secrets.two; nothing was written; make it by hand: set secrets.one.generation to 2",
        );
        // A secret map shared whole: the two secrets are one object in the parsed data, and must still count as two.
        const whole = stack(["&w", "generation: 1", "stage: stable", ...body], []).replace("    two:\n", "    two: *w\n");
        expect(() => checkEdited(parseStackFile("x.yaml", whole), edits, whole.replace("generation: 1", "generation: 2"))).toThrow(
            "would also change titan-secrets:secrets.two",
        );
        const outside = text.replace("&g 1", "&g 2").replace("*g", "1").replace("renderDir: rendered", "renderDir: other");
        expect(() => checkEdited(file, edits, outside)).toThrow("would change config outside titan-secrets:secrets");
        const plain = parseStackFile("x.yaml", text.replace("*g", "1"));
        const edited = text.replace("*g", "1").replace("&g 1", "&g 2");
        expect(() => checkEdited(plain, edits, edited)).not.toThrow();
        const crlf = parseStackFile("x.yaml", "\uFEFF" + text.replace("*g", "1").replace(/\n/g, "\r\n"));
        expect(() => checkEdited(crlf, edits, edited.replace(/\n/g, "\r\n"))).toThrow("its byte order mark would be lost or added");
        expect(() => checkEdited(crlf, edits, "\uFEFF" + edited.replace(/\n/g, "\r\n").replace("\r\n", "\n"))).toThrow(
            "its line endings would be mixed",
        );
    });
});
