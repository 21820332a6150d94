// What check-logs prints. Names, encodings, positions and counts only:
// nothing here ever sees a value or a log line.

import { MIN_VALUE_LENGTH } from "./encodings";
import { FieldHit, MASKED } from "./fields";
import { Leak } from "./matcher";
import { FileStats } from "./scan";

export interface LeakRow {
    file: string;
    line: number;
    column: number;
    secret: string;
    encoding: string;
}

export interface UnmaskedRow {
    file: string;
    line: number;
    field: string;
}

export interface UnscannedRow {
    file: string;
    /** Why it was not read to its end (the lines before were scanned). */
    reason: string;
}

/** Exit codes (args.ts USAGE): a finding outranks an unscanned input; 2 (usage or input error) has no report. */
export const EXIT = { clean: 0, found: 1, usage: 2, unscanned: 3 } as const;

export interface Report {
    /** Nothing found, every input read to its end, and at least one value searched for. */
    clean: boolean;
    exitCode: 0 | 1 | 3;
    /** Where the values came from. */
    source: string;
    /** Names of the secrets searched for. */
    searched: string[];
    /** Names not searched for, and why. */
    notSearched: { reason: string; secrets: string[] };
    files: FileStats[];
    leaks: LeakRow[];
    unmaskedFields: UnmaskedRow[];
    /** Inputs not read to their end: never clean. */
    unscanned: UnscannedRow[];
    summary: {
        leaks: number;
        secrets: number;
        lines: number;
        /** Occurrences per leaked secret. */
        leakedSecrets: Record<string, number>;
        maskedMarkers: number;
        secretFields: number;
        unmaskedFields: number;
        /** Inputs not read to their end. */
        unscanned: number;
    };
    notes: string[];
    summaryLine: string;
}

export const TOO_SHORT_REASON = `shorter than ${MIN_VALUE_LENGTH} characters (too many false positives)`;

export function leakLine(file: string, line: number, leak: Leak): string {
    return `${file}:${line}:${leak.column} secret=${leak.secret} encoding=${leak.encoding}`;
}

export function unmaskedLine(file: string, line: number, field: FieldHit): string {
    return `${file}:${line} unmasked field ${field.field}`;
}

export function buildReport(args: {
    source: string;
    searched: string[];
    tooShort: string[];
    files: FileStats[];
    leaks: LeakRow[];
    unmaskedFields: UnmaskedRow[];
    leakedSecrets: Record<string, number>;
}): Report {
    const sum = (f: (s: FileStats) => number) => args.files.reduce((n, s) => n + f(s), 0);
    const summary = {
        leaks: sum((s) => s.leaks),
        secrets: args.searched.length,
        lines: sum((s) => s.lines),
        leakedSecrets: args.leakedSecrets,
        maskedMarkers: sum((s) => s.maskedLines),
        secretFields: sum((s) => s.secretFields),
        unmaskedFields: sum((s) => s.unmaskedFields),
        unscanned: args.files.filter((f) => f.unscanned !== undefined).length,
    };
    const notes: string[] = [];
    if (args.tooShort.length > 0) notes.push(`not searched for, ${TOO_SHORT_REASON}: ${args.tooShort.join(", ")}`);
    // Only about what was read to its end: an input not scanned says nothing of what it logged.
    if (summary.maskedMarkers === 0 && summary.secretFields === 0 && summary.unscanned === 0) {
        notes.push(`no ${MASKED} markers and no secret-looking fields: nothing was logged that would need masking`);
    }
    const found = summary.leaks > 0 || summary.unmaskedFields > 0;
    // Zero values searched for finds nothing: that is no evidence of a clean log.
    const clean = !found && summary.unscanned === 0 && args.searched.length > 0;
    const unscanned = args.files.flatMap((f) => (f.unscanned === undefined ? [] : [{ file: f.file, reason: f.unscanned }]));
    let summaryLine = `${summary.leaks} leaks of ${summary.secrets} secrets in ${summary.lines} lines`;
    if (unscanned.length > 0) summaryLine += `; ${unscanned.length} of ${args.files.length} inputs not scanned (or only in part)`;
    return {
        clean,
        exitCode: found ? EXIT.found : clean ? EXIT.clean : EXIT.unscanned,
        source: args.source,
        searched: args.searched,
        notSearched: { reason: TOO_SHORT_REASON, secrets: args.tooShort },
        files: args.files,
        leaks: args.leaks,
        unmaskedFields: args.unmaskedFields,
        unscanned,
        summary,
        notes,
        summaryLine,
    };
}

/** The text after the findings (which are printed as they are found). */
export function formatSummary(r: Report): string {
    const s = r.summary;
    const lines = [
        `searched for ${s.secrets} secrets (${r.source}): ${r.searched.join(", ")}`,
        ...r.notes,
        `masked markers: ${s.maskedMarkers} (lines showing ${MASKED})`,
        `secret-looking fields: ${s.secretFields}, unmasked: ${s.unmaskedFields}`,
    ];
    const leaked = Object.entries(s.leakedSecrets);
    if (leaked.length > 0) lines.push(`leaked: ${leaked.map(([name, n]) => `${name} (${n})`).join(", ")}`);
    for (const u of r.unscanned) lines.push(`NOT SCANNED ${u.file}: ${u.reason}`);
    lines.push(r.summaryLine);
    return lines.join("\n") + "\n";
}
