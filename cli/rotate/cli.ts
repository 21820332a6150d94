// `rotate`: status, plan, advance, revert, compromise. This file wires the
// pure modules to files, the ledger source and the exit code; everything it
// decides comes from model (the program's own rules) or from the
// small modules beside it.

import { writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
    ConfigError,
    StackSpec,
    StagePoint,
    admitRotation,
    clockBehind,
    configPath,
    describePoint,
    parseConfig,
    unacknowledgedRows,
} from "../../model";
import { Backend, backendFor } from "../backend";
import { Runner, ToolIo, UsageError, processToolIo } from "../common";
import { ParsedArgs, STACK_NAME, USAGE, parseArgs } from "./args";
import { LedgerReadError, LedgerSource, ledgerFromFile, ledgerFromStack, noLedger } from "./ledgerSource";
import { formatPlanMarkdown, formatPlanText, planReport, refusalOf } from "./planReport";
import {
    LayoutError,
    StackFile,
    StackFileError,
    applyEdits,
    exchangeKeysOf,
    parseStackFile,
    rawConfigOf,
    readStackFile,
    secretValue,
} from "./stackFile";
import { PulumiRunner, RecoverError, RecoverReadError, formatRecover, recover, thisHost } from "./recover";
import { formatStatus, statusReport } from "./status";
import { automationDriver } from "./automation";
import { FleetDriver, fleetStatus, runRotation } from "./fleet";
import { RotateCommand, editsFor, legalNextSteps, slotsOf, targetOf } from "./steps";

/** 4: the ledger (or a row of it) could not be read: nothing is reported as due, none or first seen from what was not read. */
export const EXIT = { ok: 0, refused: 1, usage: 2, cannotEdit: 3, cannotRead: 4 } as const;

export interface Io extends ToolIo {
    writeFile(path: string, text: string): void;
    /** The clock when --now is not given. */
    now(): Date;
    /** This host, for telling a stale stack lock from a live one (rotate recover). */
    hostname: string;
    pulumiRunning(pid: number): boolean;
}

export function defaultIo(repo: string, run: Runner): Io {
    return { ...processToolIo(repo, run), writeFile: (p, t) => writeFileSync(p, t), now: () => new Date(), ...thisHost() };
}

interface Context {
    args: ParsedArgs;
    io: Io;
    stack: string;
    file: StackFile;
    now: Date;
    backend: Backend;
    ledger: LedgerSource;
}

/** A refusal: printed as the program's message (or JSON) with exit 1. */
class Refusal extends Error {
    constructor(
        message: string,
        readonly details: Record<string, unknown> = {},
    ) {
        super(message);
    }
}

function context(args: ParsedArgs, io: Io): Context {
    const fromFile = args.values.file ? /^Pulumi\.(.+)\.ya?ml$/.exec(basename(args.values.file))?.[1] : undefined;
    // The stack names the ledger read against the file: a file of one stack checked against another's ledger
    // would report the wrong ages and stages without a word.
    if (args.values.file && args.values.stack && fromFile !== undefined && fromFile !== args.values.stack)
        throw new UsageError(`--file ${args.values.file} is the file of stack ${fromFile}, not of --stack ${args.values.stack}`);
    if (args.values.file && !args.values.stack && fromFile === undefined)
        throw new UsageError(
            `--file ${args.values.file}: its name does not say which stack it is (Pulumi.<stack>.yaml); give --stack S, whose ledger is read with it`,
        );
    const stack = args.values.stack ?? fromFile ?? "dev";
    if (!STACK_NAME.test(stack)) throw new UsageError(`--stack: ${JSON.stringify(stack)} is not a stack name`);
    const path = args.values.file ? resolve(args.values.file) : join(resolve(args.values.dir ?? io.repo), `Pulumi.${stack}.yaml`);
    const now = args.now ?? io.now();
    const file = readStackFile(path);
    const backend = backendFor(io.repo, stack, io.run, args.values.backend, io.env);
    const ledger = args.values.ledger
        ? ledgerFromFile(resolve(args.values.ledger))
        : args.flags["no-ledger"]
          ? noLedger("--no-ledger")
          : ledgerFromStack(backend, stack);
    // A clock behind the ledger would show negative ages and overlaps, and a step written now would be refused at the up.
    const behind = clockBehind(ledger.ledger, now);
    if (behind)
        throw new Refusal(
            `${behind}. rotate refuses a clock earlier than what the ledger records: ${args.now ? "give --now at or after that time" : "set this machine's clock right"}`,
        );
    return { args, io, stack, file, now, backend, ledger };
}

function specOf(file: StackFile, stack: string): StackSpec {
    let spec: StackSpec;
    try {
        spec = parseConfig(rawConfigOf(file), stack);
    } catch (e) {
        if (e instanceof ConfigError) throw new Refusal(e.message, { refusal: refusalOf(e) });
        throw e;
    }
    // A workload stack's secrets and stages are its key ring's: the per-stack commands would see none.
    if (spec.fleet.role === "workloads")
        throw new UsageError(
            `${stack} is a workload stack (fleet.role workloads): its secrets and stages are the key ring's (${spec.fleet.keyRing}). ` +
                `See every stack with: npm run rotate -- status --stacks ${spec.fleet.keyRing},<its clusters>; rotate with: npm run rotate -- run <secret> --stacks ${spec.fleet.keyRing},<its clusters>`,
        );
    return spec;
}

function meta(c: Context) {
    return { stack: c.stack, file: basename(c.file.path), ledgerSource: c.ledger.source, ledgerNote: c.ledger.note };
}

function warnDropped(c: Context): void {
    for (const [name, why] of c.ledger.unreadable)
        c.io.err(
            `rotate: the ledger row of ${name} cannot be read (${why}); the program refuses to move it until it is restored or acknowledged with force\n`,
        );
}

/**
 * Stops with exit 4 on ledger rows that did not parse: `rows` are every one
 * (status: it cannot tell their age) or the ones the config does not
 * acknowledge with force or removeSecrets (plan and the steps, which the
 * program would refuse for them).
 */
function requireReadable(c: Context, rows: [string, string][]): void {
    if (rows.length === 0) return;
    const secrets = rows.map(([name]) => name).filter((name) => name !== "(the whole ledger)");
    const acknowledge =
        secrets.length > 0
            ? `, or acknowledge ${secrets.length > 1 ? "each row" : "the row"} for one up: ${secrets.map((name) => `pulumi config set --path '${configPath(["secrets", name, "force"])}' true`).join("; ")} (plan and advance then go on; the next up rewrites the row)`
            : "";
    throw new LedgerReadError(
        `cannot read the ledger of stack ${c.stack} (${c.ledger.note}): ${rows.map(([name, why]) => (name === "(the whole ledger)" ? `the ledger ${why}` : `the row of ${name} does not parse (${why})`)).join("; ")}. ` +
            `Without it no secret's stage, age or guards can be checked. Restore the ledger (pulumi stack history; pulumi stack export of the last good version, then import)${acknowledge}`,
    );
}

function status(c: Context): number {
    const spec = specOf(c.file, c.stack);
    requireReadable(c, [...c.ledger.unreadable]);
    const dueSoonDays = c.args.dueWithin ?? 14;
    const report = statusReport(spec, c.ledger.ledger, c.now, { ...meta(c), dueSoonDays });
    c.io.out(c.args.flags.json ? JSON.stringify(report, null, 2) + "\n" : formatStatus(report));
    return c.args.flags.check && (report.overdue.length > 0 || report.refused.length > 0) ? EXIT.refused : EXIT.ok;
}

function plan(c: Context): number {
    const spec = specOf(c.file, c.stack);
    requireReadable(c, unacknowledgedRows(spec, c.ledger.unreadable));
    const report = planReport(spec, c.ledger.ledger, c.now, meta(c), exchangeKeysOf(c.file), c.ledger.unreadable);
    const a = c.args.flags;
    c.io.out(a.json ? JSON.stringify(report, null, 2) + "\n" : a.markdown ? formatPlanMarkdown(report) : formatPlanText(report));
    return report.refused ? EXIT.refused : EXIT.ok;
}

/** advance, revert, compromise: one step of one secret, written into the stack file. */
function step(c: Context, command: RotateCommand): number {
    const spec = specOf(c.file, c.stack);
    const name = c.args.secret!;
    const s = spec.secrets.get(name);
    if (!s)
        throw new UsageError(
            `no secret ${JSON.stringify(name)} in ${basename(c.file.path)}; secrets: ${[...spec.secrets.keys()].join(", ") || "(none)"}`,
        );
    const from: StagePoint = { generation: s.generation, stage: s.stage };
    const to = targetOf(command, from, slotsOf(s));
    if (to === undefined) {
        const legal = legalNextSteps(s, c.ledger.ledger[name], c.now).map(
            (x) => `${describePoint(x)}${x.command ? ` (rotate ${x.command})` : ""}`,
        );
        throw new Refusal(
            `${name} is ${describePoint(from)}: ${command} is the way back out of overlap only (overlap N -> revert N). Legal steps: ${legal.join("; ")}.`,
        );
    }
    const declared = Object.fromEntries(["keyId", "previousKeyId", "force", "incident"].map((k) => [k, secretValue(c.file, name, k)]));
    const { edits, problems } = editsFor(s, declared, to, {
        incident: c.args.values.incident,
        keyId: c.args.values["key-id"],
        force: c.args.flags.force,
        retired: Object.hasOwn(c.ledger.ledger, name) ? c.ledger.ledger[name].retiredKeyIds : undefined,
    });
    if (problems.length > 0) throw new UsageError(problems.join("; "));
    const effective = edits.filter((e) => secretValue(c.file, name, e.key) !== e.value);
    const text = applyEdits(c.file, effective);

    // The model decides, on the file as it would be: the same refusals as the program.
    const afterFile = parseStackFile(c.file.path, text);
    const afterSpec = specOf(afterFile, c.stack);
    requireReadable(c, unacknowledgedRows(afterSpec, c.ledger.unreadable));
    try {
        admitRotation(afterSpec, c.ledger.ledger, c.now, exchangeKeysOf(afterFile), c.ledger.unreadable);
    } catch (e) {
        if (e instanceof ConfigError) throw new Refusal(e.message, { refusal: refusalOf(e), secret: name, from, to });
        throw e;
    }
    const dryRun = c.args.flags["dry-run"] === true;
    if (!dryRun && text !== c.file.text) c.io.writeFile(c.file.path, text);
    const changes = effective.map((e) => ({ key: e.key, from: secretValue(c.file, name, e.key) ?? null, to: e.value ?? null }));
    const preview =
        c.backend.kind === "repo"
            ? `${c.backend.shown} preview --stack ${c.stack} --diff`
            : `${c.backend.shown} preview --stack ${c.stack} --diff --policy-pack policy`;
    if (c.args.flags.json) {
        c.io.out(
            JSON.stringify(
                {
                    secret: name,
                    command,
                    from,
                    to,
                    file: c.file.path,
                    dryRun,
                    written: !dryRun && text !== c.file.text,
                    changes,
                    ledger: { source: c.ledger.source, note: c.ledger.note },
                },
                null,
                2,
            ) + "\n",
        );
    } else {
        const lines = [`${name}: ${describePoint(from)} -> ${describePoint(to)}${dryRun ? " (dry run: nothing written)" : ""}`];
        for (const ch of changes)
            lines.push(
                `  ${ch.key}: ${ch.from === null ? "(absent)" : JSON.stringify(ch.from)} -> ${ch.to === null ? "(removed)" : JSON.stringify(ch.to)}`,
            );
        if (c.ledger.source === "none")
            lines.push(`Note: ${c.ledger.note}; the program checks the step against the real ledger at preview.`);
        if (to.stage === "compromised") lines.push("Every workload restarts at once: auth failures are expected during that up.");
        lines.push(`Next: ${preview}, then up.`);
        c.io.out(lines.join("\n") + "\n");
    }
    return EXIT.ok;
}

function recoverStack(args: ParsedArgs, io: Io): number {
    const stack = args.values.stack ?? "dev";
    const backend = backendFor(io.repo, stack, io.run, args.values.backend, io.env);
    const pulumi: PulumiRunner = (a) => backend.run(a);
    let report;
    try {
        report = recover(stack, pulumi, io);
    } catch (e) {
        if (e instanceof RecoverReadError) throw new LedgerReadError(e.message);
        if (e instanceof RecoverError) throw new Refusal(e.message);
        throw e;
    }
    io.out(args.flags.json ? JSON.stringify(report, null, 2) + "\n" : formatRecover(report));
    return report.refused ? EXIT.refused : EXIT.ok;
}

/**
 * The fleet commands (`run`, `status --stacks`) run pulumi through the
 * Automation API, which is asynchronous; every other command is `main`.
 */
/**
 * The command as `npm run rotate` runs it: an unexpected failure is exit 2
 * with its message (never a stack trace, which may hold config values, and
 * never exit 1: a refusal, whose report says why, reads as done).
 */
export async function runCommand(argv: string[], io: Io): Promise<number> {
    try {
        return await mainAsync(argv, io);
    } catch (e) {
        io.err(`rotate: internal error: ${e instanceof Error ? e.message : String(e)}; nothing was done or checked past it\n`);
        return EXIT.usage;
    }
}

export async function mainAsync(
    argv: string[],
    io: Io,
    driverFor?: (stacks: string[], dir: string) => Promise<FleetDriver>,
): Promise<number> {
    let args: ParsedArgs;
    try {
        args = parseArgs(argv);
    } catch {
        return main(argv, io);
    }
    const fleet = args.command === "run" || (args.command === "status" && args.values.stacks !== undefined);
    if (!fleet || args.flags.help) return main(argv, io);
    const stacks = args.stacks!;
    const dir = resolve(args.values.dir ?? io.repo);
    const fleetIo = { out: io.out, err: io.err, now: () => args.now ?? io.now() };
    try {
        const backend = backendFor(io.repo, stacks[0], io.run, args.values.backend, io.env);
        const driver = driverFor
            ? await driverFor(stacks, dir)
            : await automationDriver(io.repo, dir, backend, stacks, io.env, (t) => io.err(t));
        if (args.command === "status")
            return await fleetStatus(driver, stacks, fleetIo, args.flags.json === true, {
                check: args.flags.check === true,
                dueSoonDays: args.dueWithin,
            });
        const shown = `npm run rotate -- run ${args.secret} --stacks ${stacks.join(",")}${args.values.dir ? ` --dir ${args.values.dir}` : ""}${args.values.backend ? ` --backend ${args.values.backend}` : ""}`;
        return await runRotation(
            driver,
            {
                secret: args.secret!,
                stacks,
                generation: args.generation,
                resumeCommand: (g) => `${shown} --generation ${g}${args.flags.parallel ? " --parallel" : ""}`,
                parallel: args.flags.parallel === true,
            },
            fleetIo,
        );
    } catch (e) {
        if (e instanceof LedgerReadError) {
            if (args.flags.json) io.out(JSON.stringify({ error: e.message, cannotRead: true }, null, 2) + "\n");
            io.err(`rotate: ${e.message}\n`);
            return EXIT.cannotRead;
        }
        if (e instanceof UsageError || e instanceof StackFileError || e instanceof ConfigError) {
            io.err(`rotate: ${e.message}\n`);
            return e instanceof ConfigError ? EXIT.refused : e instanceof LayoutError ? EXIT.cannotEdit : EXIT.usage;
        }
        throw e;
    }
}

export function main(argv: string[], io: Io): number {
    let args: ParsedArgs | undefined;
    try {
        args = parseArgs(argv);
        if (args.flags.help) {
            io.out(USAGE);
            return EXIT.ok;
        }
        if (args.command === "recover") return recoverStack(args, io);
        const c = context(args, io);
        warnDropped(c);
        switch (args.command!) {
            case "status":
                return status(c);
            case "plan":
                return plan(c);
            default:
                return step(c, args.command as RotateCommand);
        }
    } catch (e) {
        const json = args?.flags.json === true;
        if (e instanceof Refusal) {
            if (json) io.out(JSON.stringify({ refused: true, message: e.message, ...e.details }, null, 2) + "\n");
            else io.err(`rotate: refused: ${e.message}\n`);
            return EXIT.refused;
        }
        if (e instanceof LedgerReadError) {
            if (json) io.out(JSON.stringify({ error: e.message, cannotRead: true }, null, 2) + "\n");
            io.err(`rotate: ${e.message}\n`);
            return EXIT.cannotRead;
        }
        if (e instanceof UsageError || e instanceof StackFileError) {
            const cannotEdit = e instanceof LayoutError;
            if (json) io.out(JSON.stringify({ error: e.message, usage: !cannotEdit }, null, 2) + "\n");
            io.err(`rotate: ${e.message}\n${e instanceof UsageError ? "Run with --help for usage.\n" : ""}`);
            return cannotEdit ? EXIT.cannotEdit : EXIT.usage;
        }
        throw e;
    }
}
