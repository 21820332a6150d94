// `check-logs`: wires the arguments, the value sources, the log inputs and
// the report. See args.ts for usage and exit codes.

import { accessSync, constants, statSync } from "node:fs";
import { Readable } from "node:stream";
import { backendFor } from "../backend";
import { Runner, ToolIo, UsageError, processToolIo } from "../common";
import { CheckLogsArgs, USAGE, parseArgs } from "./args";
import { compileMatcher, SecretValue } from "./matcher";
import { EXIT, LeakRow, Report, UnmaskedRow, buildReport, formatSummary, leakLine, unmaskedLine } from "./report";
import { FileStats, LogInput, STDIN_NAME, Sink, fileInput, scanInput, streamInput } from "./scan";
import { SourceError, ValueSource, stackSources, valuesFileSource } from "./sources";

export { EXIT };

export interface Io extends ToolIo {
    stdin: Readable;
    stdinIsTTY: boolean;
}

export function defaultIo(repo: string, run: Runner): Io {
    return { ...processToolIo(repo, run), stdin: process.stdin, stdinIsTTY: process.stdin.isTTY === true };
}

class InputError extends Error {}

export function sourcesFor(args: CheckLogsArgs, io: Io): ValueSource[] {
    if (args.valuesFrom !== undefined) return [valuesFileSource(args.valuesFrom)];
    const backend = backendFor(io.repo, args.stack, io.run, args.backend, io.env);
    return stackSources(backend, args.stack);
}

function inputsFor(args: CheckLogsArgs, io: Io): LogInput[] {
    const names = args.files.length === 0 ? ["-"] : args.files;
    const problems: string[] = [];
    for (const f of names) {
        if (f === "-") continue;
        try {
            if (!statSync(f).isFile()) problems.push(`${f} is not a file`);
            else accessSync(f, constants.R_OK);
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            problems.push(code === "ENOENT" ? `${f}: no such file` : `${f}: cannot read (${code ?? "error"})`);
        }
    }
    if (problems.length > 0) throw new InputError(problems.join("; "));
    return names.map((f) => (f === "-" ? streamInput(STDIN_NAME, io.stdin) : fileInput(f)));
}

/** Where the values came from, for a person (a source that gave nothing may have no description). */
const describe = (sources: ValueSource[]) =>
    sources
        .map((s) => s.description)
        .filter(Boolean)
        .join("; ");

function loadValues(sources: ValueSource[]): SecretValue[] {
    const values = sources.flatMap((s) => s.load());
    // Scanning for nothing finds nothing: never a clean report.
    if (values.length === 0) throw new InputError(`no secret values to search for (${describe(sources)})`);
    return values;
}

async function check(args: CheckLogsArgs, io: Io): Promise<Report> {
    const inputs = inputsFor(args, io);
    const sources = sourcesFor(args, io);
    const matcher = compileMatcher(loadValues(sources));
    if (matcher.searched.length === 0) {
        throw new InputError(`no secret values to search for: every value is shorter than 8 characters (${matcher.tooShort.join(", ")})`);
    }
    const limits = { maxLineChars: args.maxLineChars, maxDecompressedBytes: args.maxDecompressedBytes };
    const leaks: LeakRow[] = [];
    const unmaskedFields: UnmaskedRow[] = [];
    const leakedSecrets: Record<string, number> = {};
    // Text: each finding is printed as it is found (memory stays bounded);
    // JSON: collected for the one document.
    const sink: Sink = {
        leak(file, line, leak) {
            leakedSecrets[leak.secret] = (leakedSecrets[leak.secret] ?? 0) + 1;
            if (args.json) leaks.push({ file, line, column: leak.column, secret: leak.secret, encoding: leak.encoding });
            else io.out(leakLine(file, line, leak) + "\n");
        },
        unmasked(file, line, field) {
            if (args.json) unmaskedFields.push({ file, line, field: field.field });
            else io.out(unmaskedLine(file, line, field) + "\n");
        },
    };
    if (inputs.some((i) => i.name === STDIN_NAME) && io.stdinIsTTY)
        io.err("check-logs: reading the log from standard input (end it with Ctrl-D)\n");
    const files: FileStats[] = [];
    for (const input of inputs) {
        // An input that cannot be read (to its end) is in its stats, and in the report as unscanned.
        files.push(await scanInput(input, matcher, sink, limits));
    }
    return buildReport({
        source: describe(sources),
        searched: matcher.searched,
        tooShort: matcher.tooShort,
        files,
        leaks,
        unmaskedFields,
        leakedSecrets,
    });
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
    let json = argv.includes("--json");
    try {
        const args = parseArgs(argv);
        json = args.json;
        if (args.help) {
            io.out(USAGE);
            return EXIT.clean;
        }
        const report = await check(args, io);
        io.out(json ? JSON.stringify(report, null, 2) + "\n" : formatSummary(report));
        return report.exitCode;
    } catch (e) {
        if (e instanceof UsageError || e instanceof InputError || e instanceof SourceError) {
            if (json) io.out(JSON.stringify({ error: e.message, exitCode: EXIT.usage }, null, 2) + "\n");
            io.err(`check-logs: ${e.message}\n${e instanceof UsageError ? "Run with --help for usage.\n" : ""}`);
            return EXIT.usage;
        }
        throw e;
    }
}
