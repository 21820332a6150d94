// rotate's argument parsing (cli/rotate/args.ts): every value a person types
// is read as exactly what it says or refused, never guessed: a time that is
// not one, a number in another notation, a flag the command ignores, a flag
// given twice, a stack named twice.

import { describe, expect, it } from "vitest";
import { parseArgs } from "../cli/rotate/args";
import { UsageError } from "../cli/common";

/** The usage error parseArgs throws for these arguments (fails when it accepts them). */
function refusal(...argv: string[]): string {
    try {
        parseArgs(argv);
    } catch (e) {
        if (e instanceof UsageError) return e.message;
        throw e;
    }
    throw new Error(`accepted: ${argv.join(" ")}`);
}

describe("rotate arguments", () => {
    it("--now that is not a time is refused by every command that takes it, run included", () => {
        for (const argv of [
            ["status"],
            ["plan"],
            ["advance", "x"],
            ["revert", "x"],
            ["compromise", "x", "--incident", "I-1"],
            ["run", "x", "--stacks", "keys,eu"],
            ["status", "--stacks", "keys,eu"],
        ]) {
            expect(refusal(...argv, "--now", "tomorrow"), argv.join(" ")).toMatch(/^--now: "tomorrow" is not an ISO time/);
            expect(refusal(...argv, "--now", "2026-02-31"), argv.join(" ")).toMatch(/^--now: "2026-02-31" is not an ISO time/);
        }
        expect(parseArgs(["run", "x", "--stacks", "keys,eu", "--now", "2026-11-01T00:00:00Z"]).now?.toISOString()).toBe(
            "2026-11-01T00:00:00.000Z",
        );
        // recover has no clock: --now there is refused, not ignored.
        expect(refusal("recover", "--now", "2026-11-01T00:00:00Z")).toMatch(/^--now does not apply to recover/);
    });

    it("--generation and --due-within take decimal whole numbers in range, nothing else", () => {
        for (const bad of ["99999999999999999999", "1e3", "-1", "1.5", "0x10", "+2", "0", "01", " 1", "1000001"])
            expect(refusal("run", "x", "--stacks", "keys,eu", "--generation", bad), bad).toMatch(
                /^--generation needs a generation number from 1 to 1000000 in decimal digits/,
            );
        expect(parseArgs(["run", "x", "--stacks", "keys,eu", "--generation", "1000000"]).generation).toBe(1_000_000);
        for (const bad of ["1e3", "-1", "1.5", "0x10", "99999999999999999999", "3651"])
            expect(refusal("status", "--due-within", bad), bad).toMatch(/^--due-within needs a whole number of days from 0 to 3650/);
        expect(parseArgs(["status", "--due-within", "0"]).dueWithin).toBe(0);
        expect(parseArgs(["status", "--due-within=30"]).dueWithin).toBe(30);
    });

    it("a flag the command does not read is refused for that command", () => {
        expect(refusal("run", "x", "--stacks", "keys,eu", "--file", "Pulumi.keys.yaml")).toMatch(/^--file does not apply to run/);
        expect(refusal("run", "x", "--stacks", "keys,eu", "--ledger", "l.json")).toMatch(/^--ledger does not apply to run/);
        expect(refusal("run", "x", "--stacks", "keys,eu", "--stack", "keys")).toMatch(/^--stack does not apply to run/);
        expect(refusal("run", "x", "--stacks", "keys,eu", "--no-ledger")).toMatch(/^--no-ledger does not apply to run/);
        expect(refusal("recover", "--dir", "/tmp")).toMatch(/^--dir does not apply to recover/);
        expect(refusal("recover", "--ledger", "l.json")).toMatch(/^--ledger does not apply to recover/);
        expect(refusal("status", "--stacks", "keys,eu", "--ledger", "l.json")).toMatch(/^--ledger does not apply to status --stacks/);
        expect(refusal("status", "--stacks", "keys,eu", "--stack", "eu")).toMatch(/^--stack does not apply to status --stacks/);
        expect(refusal("plan", "--check")).toMatch(/^--check does not apply to plan/);
        // What each command does read stays accepted.
        expect(parseArgs(["status", "--stacks", "keys,eu", "--check", "--due-within", "7", "--json"]).flags.check).toBe(true);
        expect(parseArgs(["recover", "--stack", "prod", "--backend", "login", "--json"]).values.stack).toBe("prod");
    });

    it("a flag given twice is refused, not last-wins", () => {
        expect(refusal("status", "--stack", "a", "--stack", "b")).toBe("--stack is given twice; give it once");
        expect(refusal("status", "--stack=a", "--stack", "a")).toBe("--stack is given twice; give it once");
        expect(refusal("status", "--json", "--json")).toBe("--json is given twice; give it once");
    });

    it("--stacks names each stack once, by a stack name", () => {
        expect(refusal("run", "x", "--stacks", "keys,eu,us,eu", "--parallel")).toBe(
            "--stacks names eu more than once; name each stack once",
        );
        expect(refusal("status", "--stacks", "keys,keys")).toMatch(/^--stacks names keys more than once/);
        expect(refusal("run", "x", "--stacks", "keys,e u")).toMatch(/^--stacks needs the key stack then each cluster's stack/);
        expect(parseArgs(["run", "x", "--stacks", "keys,eu,us"]).stacks).toEqual(["keys", "eu", "us"]);
    });

    it("--stack is a Pulumi stack name (recover's too)", () => {
        for (const bad of ["../prod", "a/b", "prod\n", "p rod", "x".repeat(101)])
            expect(refusal("recover", "--stack", bad), JSON.stringify(bad)).toMatch(/^--stack: .* is not a stack name/);
        expect(parseArgs(["recover", "--stack", "lab-eu.v2_x"]).values.stack).toBe("lab-eu.v2_x");
    });
});
