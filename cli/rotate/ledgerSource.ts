// Where the rotate command gets the ledger of the last `pulumi up`: a file
// (--ledger FILE: what CI and tests pass), the stack's own `ledger` output
// from its backend (cli/backend.ts), or nothing (--no-ledger, or when the stack has
// no outputs yet), in which case every secret is first seen, as the program
// itself would treat it.

import { Backend } from "../backend";
import { readFileSync } from "node:fs";
import { Ledger, emptyLedger, readLedger } from "../../model";

export interface LedgerSource {
    ledger: Ledger;
    /** "file", "stack" or "none". */
    source: "file" | "stack" | "none";
    /** For a person: where it came from, or why there is none. */
    note: string;
    /** Rows that did not parse, and why: the program refuses to move those secrets, and so does rotate. */
    unreadable: Map<string, string>;
}

export class LedgerFileError extends Error {}

/**
 * A ledger file holds either the ledger itself (`stack output ledger --json`)
 * or every output (`stack output --json`), whose `ledger` key is the ledger.
 * A secret may itself be called "ledger", so the second form is recognised
 * only when that value is not a ledger row (it has no `kind`).
 */
export function ledgerFromJson(value: unknown): unknown {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const inner = (value as Record<string, unknown>).ledger;
        if (inner !== null && typeof inner === "object" && !("kind" in (inner as object))) return inner;
    }
    return value;
}

export function ledgerFromFile(path: string): LedgerSource {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
        // Never the parser's message: it quotes the file, which may hold anything.
        const why = e instanceof SyntaxError ? "it is not JSON" : `${(e as NodeJS.ErrnoException).code ?? "it cannot be opened"}`;
        throw new LedgerFileError(`cannot read the ledger file ${path}: ${why}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new LedgerFileError(`the ledger file ${path} does not hold a JSON object (the output of: pulumi stack output ledger --json)`);
    }
    const { ledger, unreadable } = readLedger(ledgerFromJson(parsed));
    return { ledger, source: "file", note: `ledger from ${path}`, unreadable };
}

/** The stack's `ledger` output from its backend; "none" (with the reason) when it cannot be had. */
export function ledgerFromStack(backend: Backend, stack: string): LedgerSource {
    const none = (why: string): LedgerSource => ({
        ledger: emptyLedger(),
        source: "none",
        note: `no ledger for stack ${stack} in ${backend.description} (${why}): every secret is treated as first seen`,
        unreadable: new Map(),
    });
    const unavailable = backend.unavailable();
    if (unavailable) return none(unavailable);
    const r = backend.run(["stack", "output", "--stack", stack, "ledger", "--json"]);
    if (r.status !== 0) return none(r.stderr.trim().split("\n").filter(Boolean).pop() ?? `exit status ${r.status}`);
    let parsed: unknown;
    try {
        parsed = JSON.parse(r.stdout);
    } catch {
        return none("its ledger output is not JSON");
    }
    const { ledger, unreadable } = readLedger(parsed);
    return { ledger, source: "stack", note: `ledger from the outputs of stack ${stack} in ${backend.description}`, unreadable };
}

export function noLedger(reason: string): LedgerSource {
    return {
        ledger: emptyLedger(),
        source: "none",
        note: `no ledger (${reason}): every secret is treated as first seen`,
        unreadable: new Map(),
    };
}
