// `rotate status`: one row per secret, from the stack config and the ledger
// of the last up. Pure: the rows are data (the --json shape); formatStatus
// renders them for a person.

import {
    DAY_MS,
    Ledger,
    LedgerEntry,
    SecretSpec,
    StackSpec,
    StagePoint,
    describeIssue,
    describePoint,
    dueDate,
    emptyLedger,
    formatDuration,
    presenterKey,
    removedSecrets,
    specView,
} from "../../model";
import { NextStep, legalNextSteps } from "./steps";
import { relative } from "./time";

export interface StatusRow {
    secret: string;
    kind: string;
    /** What the stack file declares; null for a secret the file no longer declares (removed). */
    config: StagePoint | null;
    /** What the last up applied; absent when the ledger has never seen the secret. */
    applied?: StagePoint & { at: string };
    /** The config differs from what was applied: the next up moves the secret. */
    pending: boolean;
    firstSeen: boolean;
    keyIds: { presenters: string; verifiers: string[] };
    /** Generation the presenters use, and when it was created (absent if first seen). */
    presenterGeneration: number;
    createdAt?: string;
    ageDays?: number;
    maxAgeDays: number;
    dueAt?: string;
    /** Days until due (negative when overdue). */
    dueInDays?: number;
    overdue: boolean;
    dueSoon: boolean;
    incident?: string;
    /** Legal steps from the applied stage; empty while a change is pending. */
    next: NextStep[];
    notes: string[];
    /** In the ledger, not in the stack file. */
    removed?: boolean;
    /** Why the next up would refuse this secret (the program's message). */
    refused?: string;
}

export interface StatusReport {
    stack: string;
    file: string;
    now: string;
    ledger: { source: string; note: string };
    dueSoonDays: number;
    secrets: StatusRow[];
    overdue: string[];
    dueSoon: string[];
    /** Secrets the next up would refuse (a secret removed from the file without removeSecrets, or mid-overlap). */
    refused: string[];
}

export function statusRow(spec: SecretSpec, prev: LedgerEntry | undefined, now: Date, dueSoonDays: number): StatusRow {
    const view = specView(spec);
    // Optional fields start undefined (left out of JSON) to keep this key order.
    const row: StatusRow = {
        secret: spec.name,
        kind: spec.kind,
        config: { generation: spec.generation, stage: spec.stage },
        applied: undefined,
        pending: prev === undefined || prev.generation !== spec.generation || prev.stage !== spec.stage,
        firstSeen: prev === undefined,
        keyIds: prev
            ? { presenters: prev.presenterKeyId, verifiers: prev.verifierKeyIds }
            : { presenters: view.presenter.keyIds[0], verifiers: view.verifier.keyIds },
        presenterGeneration: view.presenter.generations[0],
        createdAt: undefined,
        ageDays: undefined,
        maxAgeDays: spec.maxAgeDays,
        dueAt: undefined,
        dueInDays: undefined,
        overdue: false,
        dueSoon: false,
        incident: spec.incident,
        next: [],
        notes: [],
    };
    if (prev === undefined) {
        row.notes.push("not in the ledger: first seen, its keys are created at the next up (no overlap guard applies)");
        row.next = legalNextSteps(spec, undefined, now);
        return row;
    }
    row.applied = { generation: prev.generation, stage: prev.stage, at: prev.stageAppliedAt };
    const key = presenterKey(prev);
    if (key) {
        row.presenterGeneration = key.generation;
        row.createdAt = key.createdAt;
        const born = Date.parse(key.createdAt);
        const due = dueDate(key.createdAt, spec.maxAgeDays).getTime();
        row.ageDays = Math.floor((now.getTime() - born) / DAY_MS);
        row.dueAt = new Date(due).toISOString();
        row.dueInDays = Math.floor((due - now.getTime()) / DAY_MS);
        row.overdue = due <= now.getTime();
        row.dueSoon = !row.overdue && due - now.getTime() <= dueSoonDays * DAY_MS;
    }
    if (row.pending) {
        row.notes.push(
            `pending: the stack file says ${describePoint(spec)}, the last up applied ${describePoint(prev)}; run pulumi up (or revert the file) before the next step`,
        );
    } else {
        row.next = legalNextSteps(spec, prev, now);
    }
    if (row.overdue && prev.stage === "stable") row.notes.push(`overdue: start a rotation (rotate advance ${spec.name})`);
    if (prev.stage === "compromised" && !prev.incident) row.notes.push("compromised without an incident in the ledger");
    return row;
}

/**
 * A secret the ledger has and the stack file no longer declares: shown, never
 * left out, with the program's refusal when its removal is not allowed (not
 * announced in removeSecrets, or mid-overlap with two keys live).
 */
export function removedRow(spec: StackSpec, name: string, prev: LedgerEntry): StatusRow {
    const one = emptyLedger();
    one[name] = prev;
    const issues = removedSecrets(spec, one);
    return {
        secret: name,
        kind: prev.kind,
        config: null,
        applied: { generation: prev.generation, stage: prev.stage, at: prev.stageAppliedAt },
        pending: true,
        firstSeen: false,
        keyIds: { presenters: prev.presenterKeyId, verifiers: prev.verifierKeyIds },
        presenterGeneration: presenterKey(prev)?.generation ?? prev.generation,
        createdAt: undefined,
        ageDays: undefined,
        maxAgeDays: 0,
        dueAt: undefined,
        dueInDays: undefined,
        overdue: false,
        dueSoon: false,
        incident: prev.incident,
        next: [],
        notes:
            issues.length > 0
                ? []
                : ["removed from the stack file and announced in removeSecrets: the next up deletes its keys and rolls its consumers"],
        removed: true,
        refused: issues.length > 0 ? issues.map(describeIssue).join(" ") : undefined,
    };
}

export function statusReport(
    spec: StackSpec,
    ledger: Ledger,
    now: Date,
    meta: { stack: string; file: string; ledgerSource: string; ledgerNote: string; dueSoonDays: number },
): StatusReport {
    const rowOf = (name: string) => (Object.hasOwn(ledger, name) ? ledger[name] : undefined);
    const secrets = [
        ...[...spec.secrets.values()].map((s) => statusRow(s, rowOf(s.name), now, meta.dueSoonDays)),
        ...Object.keys(ledger)
            .filter((name) => !spec.secrets.has(name))
            .sort()
            .map((name) => removedRow(spec, name, ledger[name])),
    ];
    return {
        stack: meta.stack,
        file: meta.file,
        now: now.toISOString(),
        ledger: { source: meta.ledgerSource, note: meta.ledgerNote },
        dueSoonDays: meta.dueSoonDays,
        secrets,
        overdue: secrets.filter((r) => r.overdue).map((r) => r.secret),
        dueSoon: secrets.filter((r) => r.dueSoon).map((r) => r.secret),
        refused: secrets.filter((r) => r.refused !== undefined).map((r) => r.secret),
    };
}

function stepLine(s: NextStep, now: Date): string {
    const when = s.allowedNow ? "allowed now" : `allowed from ${s.allowedFrom} (${relative(new Date(s.allowedFrom), now)})`;
    const how = s.command ? `rotate ${s.command}` : "edit the stack file";
    return `${describePoint(s)}: ${when}; ${how}${s.note ? ` (${s.note})` : ""}`;
}

export function formatStatus(r: StatusReport): string {
    const now = new Date(r.now);
    const out: string[] = [`Stack ${r.stack} (${r.file}) at ${r.now}`, `Ledger: ${r.ledger.note}`, ""];
    for (const s of r.secrets) {
        out.push(`${s.secret} (${s.kind})`);
        const applied = s.applied
            ? `${describePoint(s.applied)}, applied ${s.applied.at} (${formatDuration(now.getTime() - Date.parse(s.applied.at))} ago)`
            : "never applied";
        out.push(`  stage:    ${applied}`);
        if (s.config === null) out.push("  config:   (not in the stack file: removed)");
        else if (s.pending) out.push(`  config:   ${describePoint(s.config)} (not applied yet)`);
        if (s.refused) out.push(`  REFUSED:  ${s.refused}`);
        out.push(`  keys:     presenters ${s.keyIds.presenters}; verifiers ${s.keyIds.verifiers.join(", ")}`);
        if (s.removed) {
            // No due date: the stack file no longer declares its maxAgeDays.
        } else if (s.createdAt !== undefined && s.dueAt !== undefined) {
            out.push(`  age:      ${s.ageDays}d (generation ${s.presenterGeneration} created ${s.createdAt}); maxAgeDays ${s.maxAgeDays}`);
            const due = new Date(s.dueAt);
            const state = s.overdue
                ? `OVERDUE by ${formatDuration(now.getTime() - due.getTime())}`
                : s.dueSoon
                  ? `due soon (${relative(due, now)})`
                  : relative(due, now);
            out.push(`  due:      ${s.dueAt} (${state})`);
        } else {
            out.push(`  due:      ${s.maxAgeDays} days after the next up creates generation ${s.presenterGeneration}`);
        }
        if (s.incident) out.push(`  incident: ${s.incident}`);
        if (s.next.length > 0) {
            out.push(`  next:     ${stepLine(s.next[0], now)}`);
            for (const step of s.next.slice(1)) out.push(`            ${stepLine(step, now)}`);
        }
        for (const n of s.notes) out.push(`  note:     ${n}`);
        out.push("");
    }
    out.push(
        r.overdue.length > 0 ? `Overdue: ${r.overdue.join(", ")}` : "Overdue: none",
        r.dueSoon.length > 0 ? `Due within ${r.dueSoonDays} days: ${r.dueSoon.join(", ")}` : `Due within ${r.dueSoonDays} days: none`,
        ...(r.refused.length > 0 ? [`Refused at the next up: ${r.refused.join(", ")}`] : []),
    );
    return out.join("\n") + "\n";
}
