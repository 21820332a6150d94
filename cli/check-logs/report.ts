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

export interface Report {
    clean: boolean;
    exitCode: 0 | 1;
    /** Where the values came from. */
    source: string;
    /** Names of the secrets searched for. */
    searched: string[];
    /** Names not searched for, and why. */
    notSearched: { reason: string; secrets: string[] };
    files: FileStats[];
    leaks: LeakRow[];
    unmaskedFields: UnmaskedRow[];
    summary: {
        leaks: number;
        secrets: number;
        lines: number;
        /** Occurrences per leaked secret. */
        leakedSecrets: Record<string, number>;
        maskedMarkers: number;
        secretFields: number;
        unmaskedFields: number;
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
    };
    const notes: string[] = [];
    if (args.tooShort.length > 0) notes.push(`not searched for, ${TOO_SHORT_REASON}: ${args.tooShort.join(", ")}`);
    if (summary.maskedMarkers === 0 && summary.secretFields === 0) {
        notes.push(`no ${MASKED} markers and no secret-looking fields: nothing was logged that would need masking`);
    }
    const clean = summary.leaks === 0 && summary.unmaskedFields === 0;
    return {
        clean,
        exitCode: clean ? 0 : 1,
        source: args.source,
        searched: args.searched,
        notSearched: { reason: TOO_SHORT_REASON, secrets: args.tooShort },
        files: args.files,
        leaks: args.leaks,
        unmaskedFields: args.unmaskedFields,
        summary,
        notes,
        summaryLine: `${summary.leaks} leaks of ${summary.secrets} secrets in ${summary.lines} lines`,
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
    lines.push(r.summaryLine);
    return lines.join("\n") + "\n";
}
