// `npm run rotate` end to end: the real script in a child process, on copies
// of Pulumi.dev.yaml and Pulumi.prod.yaml in a temp folder (--dir), with
// ledgers written as the program would export them (--ledger FILE).

import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, Ledger, RawConfig, parseConfig, planRotation, rawConfigFrom } from "../model";
import { PROD_EXCHANGE_KEYS_YAML, REPO } from "../harness/stackFiles";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const NOW = ["--now", T0.toISOString()];
const TSX = join(REPO, "node_modules", ".bin", "tsx");

let dir: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "titan-rotate-"));
    for (const s of ["dev", "prod"]) copyFileSync(join(REPO, `Pulumi.${s}.yaml`), join(dir, `Pulumi.${s}.yaml`));
    // The team's prod file holds its exchange keys as secure values (the committed copy does not).
    appendFileSync(join(dir, "Pulumi.prod.yaml"), PROD_EXCHANGE_KEYS_YAML);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rotate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(TSX, [join(REPO, "cli", "rotate", "main.ts"), ...args, "--dir", dir], {
        cwd: REPO,
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const file = (stack: string) => join(dir, `Pulumi.${stack}.yaml`);
const read = (stack: string) => readFileSync(file(stack), "utf8");

/** What the program reads from a stack file: every titan-secrets:<key>. */
function rawOf(text: string): RawConfig {
    return rawConfigFrom((parse(text) as { config: Record<string, unknown> }).config);
}

/** The ledger the program exports after an up of this stack file's text at `when`, on top of `previous`. */
function upLedger(text: string, when: Date, previous: Ledger = {}, stack = "dev"): Ledger {
    return planRotation(parseConfig(rawOf(text), stack), previous, when).ledger;
}

function writeLedger(ledger: Ledger): string {
    const path = join(dir, "ledger.json");
    writeFileSync(path, JSON.stringify(ledger));
    return path;
}

/** Sets one key of titan-hmac in a stack file's text (as a person would, in a test). */
function withHmac(text: string, key: string, from: string, to: string): string {
    const out = text.replace(new RegExp(`(\\n      ${key}: )${from}\\n`), `$1${to}\n`);
    if (out === text) throw new Error(`no "${key}: ${from}" under titan-hmac`);
    return out;
}

/** The program's refusal for this stack file text and ledger. */
function programRefusal(text: string, ledger: Ledger, now: Date, stack = "dev"): string {
    try {
        planRotation(parseConfig(rawOf(text), stack), ledger, now);
    } catch (e) {
        if (e instanceof ConfigError) return e.message;
        throw e;
    }
    throw new Error("the program accepts this config");
}

function changedLines(before: string, after: string): [string[], string[]] {
    const a = before.split("\n");
    const b = after.split("\n");
    expect(b.length).toBe(a.length);
    return [a.filter((l, i) => l !== b[i]), b.filter((l, i) => l !== a[i])];
}

describe("rotate status", () => {
    it("--json: one row per secret of the stack file, every secret first seen without a ledger", () => {
        const r = rotate("status", "--json", "--no-ledger", ...NOW);
        expect(r.status).toBe(0);
        const report = JSON.parse(r.stdout);
        expect(Object.keys(report)).toEqual(["stack", "file", "now", "ledger", "dueSoonDays", "secrets", "overdue", "dueSoon", "refused"]);
        expect(report).toMatchObject({
            stack: "dev",
            file: "Pulumi.dev.yaml",
            now: T0.toISOString(),
            ledger: { source: "none" },
            overdue: [],
            dueSoon: [],
        });
        expect(report.secrets.map((s: { secret: string }) => s.secret)).toEqual([...parseConfig(rawOf(read("dev")), "dev").secrets.keys()]);
        const hmac = report.secrets.find((s: { secret: string }) => s.secret === "titan-hmac");
        expect(hmac).toMatchObject({
            kind: "hmac",
            config: { generation: 1, stage: "stable" },
            firstSeen: true,
            pending: true,
            keyIds: { presenters: "titan-hmac-g1", verifiers: ["titan-hmac-g1"] },
        });
        expect(hmac.next[0]).toEqual({
            stage: "overlap",
            generation: 2,
            command: "advance",
            allowedFrom: T0.toISOString(),
            allowedNow: true,
        });
    });

    it("with a ledger: applied stage, age, due date; --check exits 1 when a secret is overdue", () => {
        const ledger = writeLedger(upLedger(read("prod"), at(-100 * 24), {}, "prod"));
        const r = rotate("status", "--stack", "prod", "--ledger", ledger, ...NOW);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("titan-hmac (hmac)\n  stage:    stable at generation 1, applied 2026-07-24T00:00:00.000Z (100d ago)\n");
        expect(r.stdout).toContain("  due:      2026-10-22T00:00:00.000Z (OVERDUE by 10d)\n");
        expect(r.stdout).toContain("Overdue: titan-hmac");
        const check = rotate("status", "--stack", "prod", "--ledger", ledger, "--check", ...NOW);
        expect(check.status).toBe(1);
        const fresh = rotate(
            "status",
            "--stack",
            "prod",
            "--ledger",
            writeLedger(upLedger(read("prod"), at(-24), {}, "prod")),
            "--check",
            ...NOW,
        );
        expect(fresh.status).toBe(0);
    });

    it("shows when retiring the secondary is allowed (the overlap guard)", () => {
        const g1 = upLedger(read("dev"), at(-48));
        const overlap = withHmac(withHmac(read("dev"), "generation", "1", "2"), "stage", "stable", "overlap");
        writeFileSync(file("dev"), overlap);
        const r = rotate("status", "--json", "--ledger", writeLedger(upLedger(overlap, at(-3), g1)), ...NOW);
        const row = JSON.parse(r.stdout).secrets.find((s: { secret: string }) => s.secret === "titan-hmac");
        expect(row.next[0]).toEqual({
            stage: "stable",
            generation: 2,
            command: "advance",
            allowedFrom: at(21).toISOString(),
            allowedNow: false,
            note: "waits minOverlapHours (24) after overlap was applied",
        });
    });
});

describe("rotate plan", () => {
    it("--markdown: the waves of the next up, no values", () => {
        const ledger = writeLedger(upLedger(read("dev"), at(-48)));
        writeFileSync(file("dev"), withHmac(withHmac(read("dev"), "generation", "1", "2"), "stage", "stable", "overlap"));
        const r = rotate("plan", "--markdown", "--ledger", ledger, ...NOW);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("### Rotation plan: stack `dev`\n");
        expect(r.stdout).toContain(
            "| `titan-hmac` | stable at generation 1 | overlap at generation 2 | verifiers first, then presenters |",
        );
        expect(r.stdout).toContain("1. `titan-execution-rs`, `titan-sentinel`\n2. `titan-brain`\n");
        expect(r.stdout).toMatch(/\*\*Not restarted:\*\* .*`titan-ai-quant`/);
    });

    it("--json, and exit 1 with the program's message when the up would be refused", () => {
        const g1 = upLedger(read("dev"), at(-48));
        const overlap = withHmac(withHmac(read("dev"), "generation", "1", "2"), "stage", "stable", "overlap");
        const ledger = writeLedger(upLedger(overlap, at(-2), g1));
        const early = withHmac(overlap, "stage", "overlap", "stable");
        writeFileSync(file("dev"), early);
        const r = rotate("plan", "--json", "--ledger", ledger, ...NOW);
        expect(r.status).toBe(1);
        const report = JSON.parse(r.stdout);
        expect(Object.keys(report)).toEqual([
            "stack",
            "file",
            "now",
            "ledger",
            "refused",
            "refusal",
            "changes",
            "waves",
            "notRestarted",
            "warnings",
            "summary",
        ]);
        expect(report.refused).toBe(true);
        expect(report.refusal.message).toBe(programRefusal(early, JSON.parse(readFileSync(ledger, "utf8")), T0));
        expect(report.refusal.issues[0].key).toBe("titan-secrets:secrets.titan-hmac.stage");
    });
});

describe("rotate advance / revert / compromise", () => {
    it("advance writes overlap at N+1, changing only those two lines; the other stack file is untouched", () => {
        const dev = read("dev");
        const prod = read("prod");
        const r = rotate("advance", "titan-hmac", "--ledger", writeLedger(upLedger(dev, at(-48))), ...NOW);
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(
            'titan-hmac: stable at generation 1 -> overlap at generation 2\n  generation: 1 -> 2\n  stage: "stable" -> "overlap"\nNext: bash scripts/pulumi.sh preview --stack dev --diff, then up.\n',
        );
        expect(changedLines(dev, read("dev"))).toEqual([
            ["      generation: 1", "      stage: stable"],
            ["      generation: 2", "      stage: overlap"],
        ]);
        expect(
            read("dev")
                .split("\n")
                .filter((l) => l.trimStart().startsWith("#")),
        ).toEqual(dev.split("\n").filter((l) => l.trimStart().startsWith("#")));
        expect(read("prod")).toBe(prod);
    });

    it("advance refuses to retire the secondary before minOverlapHours, with the program's message, and writes nothing", () => {
        const g1 = upLedger(read("prod"), at(-48), {}, "prod");
        const overlap = withHmac(withHmac(read("prod"), "generation", "1", "2"), "stage", "stable", "overlap");
        writeFileSync(file("prod"), overlap);
        const ledger = upLedger(overlap, at(-3), g1, "prod");
        const r = rotate("advance", "titan-hmac", "--stack", "prod", "--ledger", writeLedger(ledger), ...NOW);
        expect(r.status).toBe(1);
        const expected = programRefusal(withHmac(overlap, "stage", "overlap", "stable"), ledger, T0, "prod");
        expect(expected).toContain("only 3h 0m after overlap at generation 2 was applied");
        expect(r.stderr).toBe(`rotate: refused: ${expected}\n`);
        expect(read("prod")).toBe(overlap);
        // Once minOverlapHours have passed, the same command writes stable at 2.
        const later = rotate("advance", "titan-hmac", "--stack", "prod", "--ledger", writeLedger(ledger), "--now", at(22).toISOString());
        expect(later.status).toBe(0);
        expect(changedLines(overlap, read("prod"))).toEqual([["      stage: overlap"], ["      stage: stable"]]);
    });

    it("advance refuses a second step before the first is applied (the ledger is one step behind)", () => {
        const ledger = upLedger(read("dev"), at(-48));
        const overlap = withHmac(withHmac(read("dev"), "generation", "1", "2"), "stage", "stable", "overlap");
        writeFileSync(file("dev"), overlap);
        const r = rotate("advance", "titan-hmac", "--json", "--ledger", writeLedger(ledger), ...NOW);
        expect(r.status).toBe(1);
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({
            refused: true,
            secret: "titan-hmac",
            from: { generation: 2, stage: "overlap" },
            to: { generation: 2, stage: "stable" },
        });
        expect(out.message).toBe(programRefusal(withHmac(overlap, "stage", "overlap", "stable"), ledger, T0));
        expect(out.message).toContain("found stable at generation 2, but the last applied stage is stable at generation 1");
        expect(read("dev")).toBe(overlap);
    });

    it("advance refuses a step whose roll-out order contradicts another rotation's (a cycle)", () => {
        const stack = (xStage: string, xGen: number, yStage: string, yGen: number) => `config:
  # two secrets whose roles are crossed
  titan-secrets:services:
    a: {image: a:1}
    b: {image: b:1}
  titan-secrets:secrets:
    x:
      kind: hmac
      generation: ${xGen}
      stage: ${xStage}
      envPrefix: TITAN_X
      verifiers: [a]
      presenters: [b]
    y:
      kind: hmac
      generation: ${yGen}
      stage: ${yStage}
      envPrefix: TITAN_Y
      verifiers: [b]
      presenters: [a]
`;
        const ledger = upLedger(stack("stable", 1, "stable", 1), at(-48));
        const text = stack("overlap", 2, "stable", 1);
        writeFileSync(join(dir, "Pulumi.cross.yaml"), text);
        const r = rotate("advance", "y", "--stack", "cross", "--ledger", writeLedger(ledger), ...NOW);
        expect(r.status).toBe(1);
        const expected = programRefusal(stack("overlap", 2, "overlap", 2), ledger, T0);
        expect(expected).toContain('rotations of "x" and "y" in one up whose orders contradict each other');
        expect(r.stderr).toBe(`rotate: refused: ${expected}\n`);
        expect(readFileSync(join(dir, "Pulumi.cross.yaml"), "utf8")).toBe(text);
    });

    it("revert: refused outside overlap; from overlap writes revert, then advance goes back to stable N-1", () => {
        const refused = rotate("revert", "titan-hmac", "--no-ledger", ...NOW);
        expect(refused.status).toBe(1);
        expect(refused.stderr).toMatch(
            /^rotate: refused: titan-hmac is stable at generation 1: revert is the way back out of overlap only \(overlap N -> revert N\)\. Legal steps: overlap at generation 2 \(rotate advance\); /,
        );
        const g1 = upLedger(read("dev"), at(-48));
        const overlap = withHmac(withHmac(read("dev"), "generation", "1", "2"), "stage", "stable", "overlap");
        writeFileSync(file("dev"), overlap);
        const inOverlap = upLedger(overlap, at(-2), g1);
        expect(rotate("revert", "titan-hmac", "--ledger", writeLedger(inOverlap), ...NOW).status).toBe(0);
        expect(changedLines(overlap, read("dev"))).toEqual([["      stage: overlap"], ["      stage: revert"]]);
        const reverted = upLedger(read("dev"), at(-1), inOverlap);
        expect(rotate("advance", "titan-hmac", "--ledger", writeLedger(reverted), ...NOW).status).toBe(0);
        expect(changedLines(overlap, read("dev"))).toEqual([
            ["      generation: 2", "      stage: overlap"],
            ["      generation: 1", "      stage: stable"],
        ]);
    });

    it("compromise writes compromised at N+1 with the incident; advance back to stable removes the incident", () => {
        const dev = read("dev");
        expect(rotate("compromise", "titan-hmac", "--no-ledger", ...NOW).status).toBe(2);
        const r = rotate(
            "compromise",
            "titan-hmac",
            "--incident",
            "INC-4711",
            "--json",
            "--ledger",
            writeLedger(upLedger(dev, at(-48))),
            ...NOW,
        );
        expect(r.status).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(Object.keys(out)).toEqual(["secret", "command", "from", "to", "file", "dryRun", "written", "changes", "ledger"]);
        expect(out).toMatchObject({
            secret: "titan-hmac",
            command: "compromise",
            to: { stage: "compromised", generation: 2 },
            written: true,
        });
        expect(out.changes).toEqual([
            { key: "generation", from: 1, to: 2 },
            { key: "stage", from: "stable", to: "compromised" },
            { key: "incident", from: null, to: "INC-4711" },
        ]);
        const compromised = read("dev");
        expect(compromised).toContain("      stage: compromised\n");
        expect(compromised).toContain("      incident: INC-4711\n");
        const back = rotate("advance", "titan-hmac", "--no-ledger", ...NOW);
        expect(back.status).toBe(0);
        expect(read("dev")).toBe(withHmac(dev, "generation", "1", "2"));
    });

    it("--dry-run prints the change and writes nothing; a stale force: true goes with the next overlap", () => {
        const dev = read("dev");
        const forced = dev.replace("      stage: stable\n", "      stage: stable\n      force: true\n");
        writeFileSync(file("dev"), forced);
        const dry = rotate("advance", "titan-hmac", "--dry-run", "--no-ledger", ...NOW);
        expect(dry.status).toBe(0);
        expect(dry.stdout).toContain("(dry run: nothing written)");
        expect(dry.stdout).toContain("  force: true -> (removed)\n");
        expect(read("dev")).toBe(forced);
        expect(rotate("advance", "titan-hmac", "--no-ledger", ...NOW).status).toBe(0);
        expect(read("dev")).toBe(withHmac(withHmac(dev, "generation", "1", "2"), "stage", "stable", "overlap"));
    });

    it("advance refuses a stage another secret shares through a YAML anchor (exit 3, nothing written); an alias bomb is exit 2", () => {
        const shared = read("dev")
            .replace("kind: hmac\n      generation: 1\n      stage: stable", "kind: hmac\n      generation: &g 1\n      stage: &s stable")
            .replace("kind: password\n      generation: 1\n      stage: stable", "kind: password\n      generation: *g\n      stage: *s");
        writeFileSync(file("dev"), shared);
        const r = rotate("advance", "titan-hmac", "--no-ledger", ...NOW);
        expect(r.status).toBe(3);
        expect(r.stderr).toContain("titan-secrets:secrets.titan-hmac.generation is shared through the YAML anchor &g");
        expect(r.stderr).toContain("secrets sharing it: titan-hmac, titan-redis-password");
        expect(r.stderr).toContain("would also change titan-secrets:secrets.titan-redis-password");
        expect(r.stdout).toBe("");
        expect(read("dev")).toBe(shared);

        const bomb = [
            "a: &a [x, x, x, x, x, x, x, x, x]",
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
            "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
        ];
        writeFileSync(file("dev"), [...bomb, read("prod")].join("\n"));
        const b = rotate("status", "--no-ledger", ...NOW);
        expect(b.status).toBe(2);
        expect(b.stderr).toMatch(/^rotate: \S+Pulumi\.dev\.yaml: its YAML aliases expand past 100 copies/);
        expect(b.stderr).not.toContain("ReferenceError");
    });

    it("usage errors exit 2", () => {
        const unknown = rotate("advance", "titan-hamc", "--no-ledger", ...NOW);
        expect(unknown.status).toBe(2);
        expect(unknown.stderr).toMatch(/^rotate: no secret "titan-hamc" in Pulumi\.dev\.yaml; secrets: titan-hmac/);
        expect(rotate("frobnicate").status).toBe(2);
        expect(rotate("status", "--now", "tomorrow").status).toBe(2);
        expect(rotate("status", "--stack", "nope", "--no-ledger").status).toBe(2);
        expect(rotate("status", "--ledger", join(dir, "missing.json")).status).toBe(4);
        expect(rotate("--help").stdout).toContain("Exit codes: 0 ok; 1 refused");
    });
});
