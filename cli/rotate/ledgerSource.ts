// Where the rotate command gets the ledger of the last `pulumi up`: a file
// (--ledger FILE: what CI and tests pass), the stack's own `ledger` output
// from its backend (cli/backend.ts), or nothing, in which case every secret
// is first seen, as the program itself would treat it. "Nothing" is decided
// only on a positive answer (--no-ledger; the backend says the stack does
// not exist or has no `ledger` output): anything else that stops the read (no
// pulumi, an expired token, output that is not a ledger) is LedgerReadError,
// exit 4, never an empty ledger: an empty ledger would show every secret as
// new and none as overdue.

import { Backend } from "../backend";
import { readFileSync } from "node:fs";
import { duplicateJsonNames } from "../common";
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

/** The ledger could not be read: rotate exits 4 and says so, never "first seen" or "none overdue". */
export class LedgerReadError extends Error {}

/** The --ledger file could not be read. */
export class LedgerFileError extends LedgerReadError {}

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
    let text: string;
    try {
        text = readFileSync(path, "utf8");
        parsed = JSON.parse(text);
    } catch (e) {
        // Never the parser's message: it quotes the file, which may hold anything.
        const why = e instanceof SyntaxError ? "it is not JSON" : `${(e as NodeJS.ErrnoException).code ?? "it cannot be opened"}`;
        throw new LedgerFileError(`cannot read the ledger file ${path}: ${why}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new LedgerFileError(`the ledger file ${path} does not hold a JSON object (the output of: pulumi stack output ledger --json)`);
    }
    // JSON.parse keeps the last of two rows (or fields) of one name: the other, perhaps the one overdue, is gone unseen.
    const twice = duplicateJsonNames(text);
    if (twice.length > 0)
        throw new LedgerFileError(
            `the ledger file ${path} gives ${twice.map((d) => JSON.stringify([...d.path, d.name].join("."))).join(", ")} more than once; allowed: each secret and field once (pulumi stack output ledger --json writes it so): take the ledger from the stack again`,
        );
    const { ledger, unreadable } = readLedger(ledgerFromJson(parsed));
    return { ledger, source: "file", note: `ledger from ${path}`, unreadable };
}

/**
 * What the backend prints when it positively knows there is no ledger: the
 * stack has no `ledger` output (it has never been up'd by this program) or
 * there is no such stack. Pulumi's own messages (pkg/cmd/pulumi: stack
 * output, requireStack); any other failure is a failure to read.
 */
function noLedgerAnswer(stderr: string, stack: string): string | undefined {
    if (/current stack does not have output property 'ledger'|current stack has no output properties/.test(stderr))
        return `stack ${stack} has no ledger output yet`;
    if (stderr.includes(`no stack named '${stack}' found`)) return `there is no stack ${stack} yet`;
    return undefined;
}

/** The stack's `ledger` output from its backend; "none" only when the backend says there is none; LedgerReadError otherwise. */
export function ledgerFromStack(backend: Backend, stack: string): LedgerSource {
    const cannot = (why: string) =>
        new LedgerReadError(
            `cannot read the ledger of stack ${stack} from ${backend.description}: ${why}. Without it no secret's age, due date or guard can be checked. ` +
                `Fix the access, or pass the ledger with --ledger FILE (pulumi stack output --stack ${stack} ledger --json), or --no-ledger to treat every secret as first seen`,
        );
    const unavailable = backend.unavailable();
    if (unavailable) throw cannot(unavailable);
    const r = backend.run(["stack", "output", "--stack", stack, "ledger", "--json"]);
    if (r.status !== 0) {
        const none = noLedgerAnswer(r.stderr, stack);
        if (none === undefined) throw cannot(r.stderr.trim().split("\n").filter(Boolean).pop() ?? `exit status ${r.status}`);
        return {
            ledger: emptyLedger(),
            source: "none",
            note: `no ledger for stack ${stack} in ${backend.description} (${none}): every secret is treated as first seen`,
            unreadable: new Map(),
        };
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(r.stdout);
    } catch {
        throw cannot("its ledger output is not JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw cannot(
            `its ledger output is ${parsed === null ? "null" : Array.isArray(parsed) ? "a list" : typeof parsed}, not a map of secrets`,
        );
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
