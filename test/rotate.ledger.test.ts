// Where `rotate` reads the ledger from, and what it does when it cannot
// (cli/rotate/ledgerSource.ts): a backend that refuses, no pulumi, output
// that is not a ledger, a row that does not parse all stop with exit 4 and
// say so; only the backend's own "no such stack / no ledger output" means a
// new stack (every secret first seen, said in the report). In-process, with
// a fake `pulumi` (io.run) on a PATH of our own.

import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordingIo } from "./support/rotateIo";
import { parse } from "yaml";
import { EXIT, main, runCommand } from "../cli/rotate/cli";
import { Ledger, parseConfig, planRotation, rawConfigFrom } from "../model";
import { PROD_EXCHANGE_KEYS_YAML, REPO } from "../harness/stackFiles";

const T0 = new Date("2026-11-01T00:00:00Z");
const DAY = 86_400_000;

let dir: string;
beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "titan-rotate-ledger-"));
    copyFileSync(join(REPO, "Pulumi.prod.yaml"), join(dir, "Pulumi.prod.yaml"));
    appendFileSync(join(dir, "Pulumi.prod.yaml"), PROD_EXCHANGE_KEYS_YAML);
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin", "pulumi"), "#!/bin/sh\nexit 99\n"); // only found on PATH; io.run answers
    chmodSync(join(dir, "bin", "pulumi"), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The ledger an up of the prod file at `when` leaves. */
function prodLedger(when: Date): Ledger {
    const config = (parse(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
    return planRotation(parseConfig(rawConfigFrom(config), "prod"), {}, when).ledger;
}

type Answer = { status: number; stdout?: string; stderr?: string };

/** rotate with `pulumi stack output ledger` answering `answer`; PATH holds a pulumi unless `noPulumi`. */
function rotate(argv: string[], answer: Answer, opts: { noPulumi?: boolean; now?: Date } = {}) {
    const asked: string[][] = [];
    const r = recordingIo({
        repo: dir,
        now: () => opts.now ?? T0,
        run: (cmd, args) => {
            asked.push([cmd, ...args]);
            return { status: answer.status, stdout: answer.stdout ?? "", stderr: answer.stderr ?? "" };
        },
        env: { PATH: opts.noPulumi ? join(dir, "nothing") : join(dir, "bin") },
    });
    const code = main([...argv, "--stack", "prod", "--dir", dir], r.io);
    return { code, out: r.out(), err: r.err(), asked };
}

const ok = (ledger: unknown): Answer => ({ status: 0, stdout: JSON.stringify(ledger) });

describe("rotate: a ledger that cannot be read is exit 4, never none or first seen", () => {
    const commands = [["status"], ["status", "--check"], ["status", "--json"], ["plan"], ["advance", "titan-hmac"]];

    it("the backend refuses (an expired token): every command stops with exit 4 and says it could not read the ledger", () => {
        const expired = { status: 255, stderr: "error: [401] Unauthorized: your access token has expired\n" };
        for (const argv of commands) {
            const r = rotate(argv, expired, { now: new Date(T0.getTime() + 400 * DAY) });
            expect(r.code, argv.join(" ")).toBe(EXIT.cannotRead);
            expect(r.err).toContain(
                "rotate: cannot read the ledger of stack prod from the backend pulumi is logged in to: error: [401] Unauthorized: your access token has expired.",
            );
            expect(r.out).not.toMatch(/Overdue: none|not in the ledger: first seen|"firstSeen"/);
        }
        expect(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")).toContain("      generation: 1\n      stage: stable\n");
        const json = rotate(["status", "--json"], expired);
        expect(JSON.parse(json.out)).toMatchObject({ cannotRead: true });
    });

    it("no pulumi on PATH, output that is not JSON or not a map: exit 4", () => {
        const none = rotate(["status", "--check"], ok({}), { noPulumi: true });
        expect(none.code).toBe(EXIT.cannotRead);
        expect(none.err).toContain("cannot read the ledger of stack prod from the backend pulumi is logged in to: no pulumi on PATH");
        expect(none.asked).toEqual([]);
        for (const [stdout, why] of [
            ["<html>502 Bad Gateway</html>", "its ledger output is not JSON"],
            ["null", "its ledger output is null, not a map of secrets"],
            ["[]", "its ledger output is a list, not a map of secrets"],
            ['"x"', "its ledger output is string, not a map of secrets"],
        ]) {
            const r = rotate(["status", "--check"], { status: 0, stdout });
            expect(r.code, stdout).toBe(EXIT.cannotRead);
            expect(r.err).toContain(why);
        }
    });

    it("only the backend's own answer that there is no ledger makes a new stack, and the report says so", () => {
        for (const [stderr, said] of [
            ["error: current stack does not have output property 'ledger'\n", "stack prod has no ledger output yet"],
            ["error: no stack named 'prod' found\n", "there is no stack prod yet"],
            ["error: current stack has no output properties\n", "stack prod has no ledger output yet"], // older pulumi versions
        ]) {
            const r = rotate(["status", "--check"], { status: 255, stderr });
            expect(r.code, stderr).toBe(EXIT.ok);
            expect(r.out).toContain(
                `Ledger: no ledger for stack prod in the backend pulumi is logged in to (${said}): every secret is treated as first seen`,
            );
            expect(r.out).toContain("not in the ledger: first seen");
        }
        // Another stack's name in the message is no answer about this one.
        expect(rotate(["status"], { status: 255, stderr: "error: no stack named 'prod-eu' found\n" }).code).toBe(EXIT.cannotRead);
        const asked = rotate(["status"], ok(prodLedger(T0))).asked;
        expect(asked).toEqual([["pulumi", "stack", "output", "--stack", "prod", "ledger", "--json", "--non-interactive"]]);
    });

    it("--no-ledger stays the explicit opt-out; an unreadable --ledger file is exit 4", () => {
        const r = rotate(["status", "--no-ledger"], { status: 255, stderr: "never asked" });
        expect(r.code).toBe(EXIT.ok);
        expect(r.out).toContain("Ledger: no ledger (--no-ledger): every secret is treated as first seen");
        expect(r.asked).toEqual([]);
        writeFileSync(join(dir, "ledger.json"), "{not json");
        const file = rotate(["status", "--ledger", join(dir, "ledger.json")], ok({}));
        expect(file.code).toBe(EXIT.cannotRead);
        expect(file.err).toContain("it is not JSON");
        expect(rotate(["status", "--ledger", join(dir, "missing.json")], ok({})).code).toBe(EXIT.cannotRead);
    });

    it("--file names its stack (Pulumi.<S>.yaml) or needs --stack; a --stack other than the file's is refused: its ledger would be read against the wrong file", () => {
        const direct = (...argv: string[]) => {
            const r = recordingIo({ repo: dir, now: () => T0, run: () => ({ status: 99, stdout: "", stderr: "never asked" }), env: {} });
            return { code: main(argv, r.io), err: r.err() };
        };
        const prod = join(dir, "Pulumi.prod.yaml");
        const mismatch = direct("status", "--file", prod, "--stack", "dev", "--no-ledger");
        expect(mismatch.code).toBe(EXIT.usage);
        expect(mismatch.err).toContain(`--file ${prod} is the file of stack prod, not of --stack dev`);
        copyFileSync(prod, join(dir, "prod-copy.yaml"));
        const unnamed = direct("status", "--file", join(dir, "prod-copy.yaml"), "--no-ledger");
        expect(unnamed.code).toBe(EXIT.usage);
        expect(unnamed.err).toContain("its name does not say which stack it is (Pulumi.<stack>.yaml); give --stack S");
        expect(direct("status", "--file", join(dir, "prod-copy.yaml"), "--stack", "prod", "--no-ledger").code).toBe(EXIT.ok);
        expect(direct("status", "--file", prod, "--stack", "prod", "--no-ledger").code).toBe(EXIT.ok);
    });

    it("an unexpected failure is exit 2 with its message ('internal error'), never a stack trace or exit 1 (a refusal, read as done)", async () => {
        const r = recordingIo({
            repo: dir,
            now: () => T0,
            run: () => {
                throw new TypeError("boom");
            },
            env: { PATH: join(dir, "bin") },
        });
        expect(await runCommand(["plan", "--stack", "prod", "--dir", dir, "--backend", "login"], r.io)).toBe(EXIT.usage);
        expect(r.err()).toBe("rotate: internal error: boom; nothing was done or checked past it\n");
        expect(r.out()).toBe("");
    });

    it("a --ledger file that gives a secret or a field twice is exit 4: JSON.parse would keep the last without a word", () => {
        const old = JSON.stringify(prodLedger(new Date(T0.getTime() - 400 * DAY))["titan-hmac"]);
        const fresh = JSON.stringify(prodLedger(T0)["titan-hmac"]);
        const path = join(dir, "ledger.json");
        // The overdue row first, a fresh one after it: read last-wins, the secret showed as not due.
        writeFileSync(path, `{"titan-hmac": ${old}, "titan-hmac": ${fresh}}`);
        const twice = rotate(["status", "--check", "--ledger", path], ok({}));
        expect(twice.code).toBe(EXIT.cannotRead);
        expect(twice.err).toContain(`the ledger file ${path} gives "titan-hmac" more than once`);
        expect(twice.out).not.toContain("Overdue: none");
        writeFileSync(path, `{"titan-hmac": ${old.slice(0, -1)}, "dueAt": "2099-01-01T00:00:00.000Z"}}`);
        expect(rotate(["status", "--ledger", path], ok({})).err).toContain(`gives "titan-hmac.dueAt" more than once`);
        writeFileSync(path, `{"titan-hmac": ${old}}`);
        const once = rotate(["status", "--check", "--ledger", path], ok({}));
        expect(once.code).toBe(EXIT.refused);
        expect(once.out).toMatch(/Overdue: .*titan-hmac/);
    });

    it("a row that does not parse: status stops (it cannot tell that secret's age); plan and advance stop unless the config acknowledges it", () => {
        const ledger = prodLedger(new Date(T0.getTime() - 100 * DAY)) as Record<string, unknown>;
        ledger["titan-hmac"] = { ...(ledger["titan-hmac"] as object), dueAt: "soon" };
        for (const argv of commands) {
            const r = rotate(argv, ok(ledger));
            expect(r.code, argv.join(" ")).toBe(EXIT.cannotRead);
            expect(r.err).toContain("cannot read the ledger of stack prod (ledger from the outputs of stack prod");
            expect(r.err).toContain("the row of titan-hmac does not parse (dueAt:");
            expect(r.err).toContain("or acknowledge the row for one up: pulumi config set --path 'secrets.titan-hmac.force' true");
            expect(r.out).not.toContain("Overdue: none");
        }
        // force: true on the secret acknowledges the row for one up, as the program allows: plan goes on; status still cannot tell.
        const text = readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8");
        writeFileSync(
            join(dir, "Pulumi.prod.yaml"),
            text.replace("    titan-hmac:\n      kind: hmac\n", "    titan-hmac:\n      kind: hmac\n      force: true\n"),
        );
        expect(rotate(["plan"], ok(ledger)).code).toBe(EXIT.ok);
        expect(rotate(["status"], ok(ledger)).code).toBe(EXIT.cannotRead);
    });
});
