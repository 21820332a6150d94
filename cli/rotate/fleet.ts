// `rotate run <secret> --stacks keys,eu,us` and `rotate status --stacks ...`:
// one rotation over a key stack and its clusters' workload stacks. The
// order is the programs' own (model/fleet.ts): `run` only picks which stack
// to `pulumi up` next, through the Automation API, from what each stack's
// last ledger says, so a run that stops (a failed up, a killed process, a
// wait for minOverlapHours) resumes from the stacks' state with the same
// command. Every refusal is the program's; `run` adds none of its own.
//
//   key ring: stable N -> overlap N+1 (rotate advance, written into the
//   key stack's file), up the key stack;
//   clusters: each cluster's verifiers' step (in the order given), then
//   each cluster's presenters' step (the last cluster's up takes both);
//   key ring: overlap -> stable once minOverlapHours have passed, up;
//   clusters: each drops the old generation.
//
// With --parallel the clusters of one step go side by side: every
// verifiers' step (each holds its presenters, having read the others
// before they moved), then every presenters' step, then every retire.

import { basename } from "node:path";
import {
    ClusterStanding,
    ConfigError,
    Ledger,
    LedgerEntry,
    StackSpec,
    admitRotation,
    clockBehind,
    describePoint,
    parseConfig,
    readLedger,
    standingOf,
} from "../../model";
import { UsageError } from "../common";
import { applyEdits, exchangeKeysOf, parseStackFile, rawConfigOf, readStackFile, secretValue } from "./stackFile";
import { editsFor } from "./steps";
import { LedgerReadError } from "./ledgerSource";
import { removedRow, statusRow } from "./status";

/** The stacks of a fleet as `run` drives them (the Automation API in the CLI; the same calls in the tests). */
export interface FleetDriver {
    /** The key stack's file (its stage is written there, as `rotate advance` does). */
    keyStackFile: string;
    /** The stack's last `ledger` output (undefined when it has none). */
    ledger(stack: string): Promise<unknown>;
    /** `pulumi up` of the stack; throws with the engine's message when it fails. */
    up(stack: string): Promise<void>;
    /** Writes the key stack's file (the next stage). */
    writeKeyStackFile(text: string): void;
}

export interface FleetIo {
    out(text: string): void;
    err(text: string): void;
    now(): Date;
}

/** Where a cluster stands on the secret, or undefined when its ledger has no row for it. */
interface Cluster {
    stack: string;
    row?: LedgerEntry;
    standing?: ClusterStanding;
}

interface FleetState {
    spec: StackSpec;
    /** The key ring's ledger and its row of the secret (its last up). */
    keyLedger: Ledger;
    key?: LedgerEntry;
    clusters: Cluster[];
}

const same = (a: number[] | undefined, b: number[]) => a !== undefined && a.join(",") === b.join(",");

/**
 * A stack's last ledger as read. A stack whose ledger cannot be read stops the
 * run and the status (exit 4): read as empty, it would look like a cluster
 * that has not run yet.
 */
async function ledgerRead(d: FleetDriver, stack: string): Promise<ReturnType<typeof readLedger>> {
    try {
        return readLedger(await d.ledger(stack));
    } catch (e) {
        const why = (e instanceof Error ? e.message : String(e)).trim().split("\n").filter(Boolean).pop() ?? "no message";
        throw new LedgerReadError(`cannot read the ledger of stack ${stack}: ${why}`);
    }
}

async function readState(d: FleetDriver, keyStack: string, clusters: string[], secret: string): Promise<FleetState> {
    const file = readStackFile(d.keyStackFile);
    const spec = parseConfig(rawConfigOf(file), keyStack);
    if (spec.fleet.role !== "keys")
        throw new UsageError(
            `${basename(d.keyStackFile)}: the first of --stacks must be the key stack (fleet.role keys), found role ${spec.fleet.role}`,
        );
    if (!spec.secrets.has(secret))
        throw new UsageError(
            `no secret ${JSON.stringify(secret)} in ${basename(d.keyStackFile)}; secrets: ${[...spec.secrets.keys()].join(", ")}`,
        );
    const missing = spec.fleet.clusters.filter((c) => !clusters.includes(c));
    if (missing.length > 0)
        throw new UsageError(
            `--stacks leaves out ${missing.join(", ")}, which the key ring lists under fleet.clusters: a rotation moves every cluster`,
        );
    const ledgerOf = async (stack: string): Promise<Ledger> => {
        const { ledger, unreadable } = await ledgerRead(d, stack);
        const why = unreadable.get(secret) ?? unreadable.get("(the whole ledger)");
        if (why) throw new LedgerReadError(`cannot read the ledger of stack ${stack} for ${secret}: ${why}`);
        return ledger;
    };
    const rowOf = async (stack: string): Promise<LedgerEntry | undefined> => {
        const ledger = await ledgerOf(stack);
        return Object.hasOwn(ledger, secret) ? ledger[secret] : undefined;
    };
    const keyLedger = await ledgerOf(keyStack);
    const key = Object.hasOwn(keyLedger, secret) ? keyLedger[secret] : undefined;
    const out: Cluster[] = [];
    for (const stack of clusters) {
        const row = await rowOf(stack);
        out.push({ stack, row, standing: row && standingOf(row, secret) });
    }
    return { spec, keyLedger, key, clusters: out };
}

/** What each role must hold when the rotation to `target` is complete at the key ring's point. */
function wanted(stage: "overlap" | "stable", target: number): { verifiers: number[]; presenters: number[] } {
    return stage === "overlap" ? { verifiers: [target, target - 1], presenters: [target] } : { verifiers: [target], presenters: [target] };
}

/** A cluster is done with a phase when its last up followed the key ring's point and its roles hold what the point asks. */
function clusterDone(
    c: Cluster,
    point: { stage: string; generation: number },
    want: { verifiers: number[]; presenters: number[] },
): boolean {
    if (!c.row || !c.standing) return false;
    if (c.row.stage !== point.stage || c.row.generation !== point.generation) return false;
    const okRole = (held: number[], w: number[]) => held.length === 0 || same(held, w);
    return okRole(c.standing.verifiers, want.verifiers) && okRole(c.standing.presenters, want.presenters);
}

/**
 * The next stacks to up in the current phase: verifiers' steps first, then
 * presenters'. One at a time, or (parallel) every cluster of the same step
 * side by side: each reads the others' ledgers as they were when it started,
 * so in a batch of verifiers' steps every cluster holds its presenters, and
 * the presenters' steps follow as a second batch.
 */
function nextClusters(
    clusters: Cluster[],
    point: { stage: string; generation: number },
    target: number,
    consumesNothing: ReadonlySet<string>,
    parallel: boolean,
): Cluster[] {
    const want = wanted(point.stage as "overlap" | "stable", target);
    const pending = clusters.filter((c) => !clusterDone(c, point, want) && !(c.row === undefined && consumesNothing.has(c.stack)));
    const verifiersBehind = pending.filter((c) => !c.row || c.row.stage !== point.stage || c.row.generation !== point.generation);
    const batch = verifiersBehind.length > 0 ? verifiersBehind : pending;
    return parallel ? batch : batch.slice(0, 1);
}

function formatStanding(c: Cluster): string {
    if (!c.row || !c.standing) return `${c.stack}: no row (has not consumed it yet, or has not run)`;
    const g = (x: number[]) => (x.length > 0 ? x.map((n) => `g${n}`).join("+") : "-");
    const held = c.row.presentersHeldAt !== undefined ? ` (presenters held on g${c.row.presentersHeldAt})` : "";
    return `${c.stack}: follows ${describePoint(c.row)}; verifiers ${g(c.standing.verifiers)}, presenters ${g(c.standing.presenters)}${held}`;
}

export interface FleetStatusOptions {
    /** Exit 1 when a secret of the key ring is overdue or refused (status --check). */
    check?: boolean;
    /** Days ahead that count as due soon (status --due-within). */
    dueSoonDays?: number;
}

/**
 * `rotate status --stacks`: the key ring and every cluster at once, for each
 * secret of the ring, with its due date from the key ring's ledger, and each
 * secret that ledger has and the file dropped. Exit 1 with --check when one
 * is overdue or refused; a stack whose ledger cannot be read, or a row of the
 * key ring's that does not parse, stops it (LedgerReadError, exit 4).
 */
export async function fleetStatus(
    d: FleetDriver,
    stacks: string[],
    io: FleetIo,
    json: boolean,
    o: FleetStatusOptions = {},
): Promise<number> {
    const [keyStack, ...clusters] = stacks;
    const file = readStackFile(d.keyStackFile);
    const spec = parseConfig(rawConfigOf(file), keyStack);
    if (spec.fleet.role !== "keys")
        throw new UsageError(
            `${basename(d.keyStackFile)}: the first of --stacks must be the key stack (fleet.role keys), found role ${spec.fleet.role}`,
        );
    const now = io.now();
    const dueSoonDays = o.dueSoonDays ?? 14;
    const report: Record<string, unknown> = {};
    const lines: string[] = [];
    const overdue: string[] = [];
    const dueSoon: string[] = [];
    // The key ring's whole ledger, as `rotate status` reads one stack's: any row that does not parse stops it,
    // and a secret the ledger has and the file dropped is shown (refused unless its removal is allowed), never left out.
    const keyRead = await ledgerRead(d, keyStack);
    if (keyRead.unreadable.size > 0)
        throw new LedgerReadError(
            `cannot read the ledger of stack ${keyStack}: ${[...keyRead.unreadable].map(([name, why]) => `${name}: ${why}`).join("; ")}`,
        );
    const dropped = Object.keys(keyRead.ledger)
        .filter((name) => !spec.secrets.has(name))
        .map((name) => removedRow(spec, name, keyRead.ledger[name]));
    const refused = dropped.filter((r) => r.refused !== undefined).map((r) => r.secret);
    for (const secret of spec.secrets.keys()) {
        const st = await readState(d, keyStack, clusters, secret);
        const s = st.spec.secrets.get(secret)!;
        const behind = clockBehind(st.keyLedger, now);
        if (behind) {
            io.err(`rotate: refused: ${behind}. rotate refuses a clock earlier than what the ledger records\n`);
            return 1;
        }
        const due = statusRow(s, st.key, now, dueSoonDays);
        if (due.overdue) overdue.push(secret);
        if (due.dueSoon) dueSoon.push(secret);
        report[secret] = {
            config: { stage: s.stage, generation: s.generation },
            keyRing: st.key ? { stage: st.key.stage, generation: st.key.generation, at: st.key.stageAppliedAt } : null,
            dueAt: due.dueAt ?? null,
            overdue: due.overdue,
            dueSoon: due.dueSoon,
            clusters: Object.fromEntries(
                st.clusters.map((c) => [c.stack, c.row ? { ...c.standing!, presentersHeldAt: c.row.presentersHeldAt ?? null } : null]),
            ),
        };
        const dueText = due.dueAt ? `; due ${due.dueAt}${due.overdue ? " (OVERDUE)" : due.dueSoon ? " (due soon)" : ""}` : "";
        lines.push(
            `${secret}: key ring ${keyStack} ${st.key ? `at ${describePoint(st.key)} (since ${st.key.stageAppliedAt})` : "has not run"}` +
                (st.key && (st.key.stage !== s.stage || st.key.generation !== s.generation)
                    ? `; its file says ${describePoint(s)} (not applied yet)`
                    : "") +
                dueText,
            ...st.clusters.map((c) => `  ${formatStanding(c)}`),
        );
    }
    for (const r of dropped) {
        report[r.secret] = { config: null, keyRing: r.applied, removed: true, refused: r.refused ?? null };
        lines.push(
            `${r.secret}: removed from ${basename(d.keyStackFile)}; key ring ${keyStack} at ${describePoint(r.applied!)} (since ${r.applied!.at})`,
            `  ${r.refused ? `REFUSED:  ${r.refused}` : r.notes.join(" ")}`,
        );
    }
    lines.push(
        overdue.length > 0 ? `Overdue: ${overdue.join(", ")}` : "Overdue: none",
        dueSoon.length > 0 ? `Due within ${dueSoonDays} days: ${dueSoon.join(", ")}` : `Due within ${dueSoonDays} days: none`,
        ...(refused.length > 0 ? [`Refused at the next up: ${refused.join(", ")}`] : []),
    );
    io.out(json ? JSON.stringify(report, null, 2) + "\n" : lines.join("\n") + "\n");
    return o.check && (overdue.length > 0 || refused.length > 0) ? 1 : 0;
}

export interface RunOptions {
    secret: string;
    stacks: string[];
    /** The generation this run rotates to; by default the one after the key ring's. */
    generation?: number;
    /** What to print as the command that resumes (the caller's own command line). */
    resumeCommand: (generation: number) => string;
    /** Up the clusters of one step side by side (every verifiers' step, then every presenters' step). */
    parallel?: boolean;
}

/**
 * Drives the rotation to stable at the target generation, one `pulumi up` at
 * a time (or the clusters of one step side by side), and stops at the first
 * failure or wait with the command that resumes. Returns the exit code: 0
 * done, 1 stopped (refused, failed or waiting).
 */
export async function runRotation(d: FleetDriver, o: RunOptions, io: FleetIo): Promise<number> {
    const [keyStack, ...clusters] = o.stacks;
    if (clusters.length === 0) throw new UsageError("--stacks needs the key stack and at least one workload stack: keys,eu,us");
    let st = await readState(d, keyStack, clusters, o.secret);
    const declared = st.spec.secrets.get(o.secret)!;
    const target =
        o.generation ?? (declared.stage === "stable" && st.key?.stage === "stable" ? declared.generation + 1 : declared.generation);
    const resume = o.resumeCommand(target);
    io.out(`rotate run: ${o.secret} to stable at generation ${target} over ${keyStack} (key ring) and ${clusters.join(", ")}\n`);
    const stop = (why: string) => {
        io.err(`rotate run: stopped: ${why}\nResume with: ${resume}\n`);
        return 1;
    };
    // A cluster whose up leaves no row for the secret does not consume it.
    const consumesNothing = new Set<string>();
    const up = async (stack: string, what: string): Promise<boolean> => {
        io.out(`- pulumi up ${stack}: ${what}\n`);
        try {
            await d.up(stack);
            if (stack !== keyStack) consumesNothing.add(stack);
            return true;
        } catch (e) {
            const message = (e instanceof Error ? e.message : String(e)).trim().split("\n").slice(-12).join("\n");
            io.err(`rotate run: the up of ${stack} failed:\n${message}\n`);
            return false;
        }
    };
    /** Ups a batch (side by side when there are several); stops after every up of it has ended if one failed. */
    const upAll = async (batch: Cluster[], what: (c: Cluster) => string): Promise<string | undefined> => {
        if (batch.length > 1) io.out(`- side by side: ${batch.map((c) => c.stack).join(", ")}\n`);
        const results = await Promise.all(batch.map((c) => up(c.stack, what(c))));
        const failed = batch.filter((_, i) => !results[i]).map((c) => c.stack);
        return failed.length > 0 ? `${failed.join(", ")} did not take ${failed.length > 1 ? "their" : "its"} step` : undefined;
    };
    const parallel = o.parallel === true;
    for (let guard = 0; guard < 4 * (clusters.length + 2) + 4; guard++) {
        st = await readState(d, keyStack, clusters, o.secret);
        for (const c of st.clusters) if (c.row) consumesNothing.delete(c.stack);
        const s = st.spec.secrets.get(o.secret)!;
        const key = st.key;
        // The key stack's file says something its last up did not apply: apply it.
        if (!key || key.stage !== s.stage || key.generation !== s.generation) {
            if (!(await up(keyStack, `apply ${describePoint(s)} to the key ring`)))
                return stop(`the key stack ${keyStack} did not apply ${describePoint(s)}`);
            continue;
        }
        const point = { stage: key.stage, generation: key.generation };
        if (key.stage === "stable" && key.generation === target) {
            const batch = nextClusters(st.clusters, point, target, consumesNothing, parallel);
            if (batch.length === 0) {
                io.out(`rotate run: done: ${o.secret} is stable at generation ${target} in the key ring and every cluster\n`);
                for (const c of st.clusters) io.out(`  ${formatStanding(c)}\n`);
                return 0;
            }
            const failed = await upAll(batch, (c) =>
                c.row
                    ? `verifiers drop the old generation (stable at generation ${target})`
                    : `deliver generation ${target} to its consumers (its first up with ${o.secret})`,
            );
            if (failed) return stop(failed);
            continue;
        }
        if (key.stage === "stable" && key.generation === target - 1) {
            const batch = nextClusters(st.clusters, point, target - 1, consumesNothing, parallel);
            if (batch.length > 0) {
                const failed = await upAll(batch, () => `catch up with ${describePoint(point)} first`);
                if (failed) return stop(failed);
                continue;
            }
            if (!writeStep(d, keyStack, o.secret, { stage: "overlap", generation: target }, st.keyLedger, io))
                return stop("the key ring refused the overlap");
            continue;
        }
        if (key.stage === "overlap" && key.generation === target) {
            const batch = nextClusters(st.clusters, point, target, consumesNothing, parallel);
            if (batch.length > 0) {
                const failed = await upAll(batch, (c) =>
                    !c.row || c.row.stage !== "overlap" || c.row.generation !== target
                        ? `verifiers take g${target}+g${target - 1}`
                        : `presenters move to g${target}`,
                );
                if (failed) return stop(failed);
                continue;
            }
            if (!writeStep(d, keyStack, o.secret, { stage: "stable", generation: target }, st.keyLedger, io))
                return stop(`the key ring cannot retire generation ${target - 1} yet`);
            continue;
        }
        return stop(
            `the key ring is at ${describePoint(key)}, which is not on the way from stable ${target - 1} to stable ${target} (revert or compromise it by hand: rotate revert / compromise on ${keyStack})`,
        );
    }
    return stop("the rotation did not converge (a stack's up changed nothing it was asked to)");
}

/** Writes the key ring's next stage into its file when the model allows it now; prints why not otherwise. */
function writeStep(
    d: FleetDriver,
    keyStack: string,
    secret: string,
    to: { stage: "overlap" | "stable"; generation: number },
    keyLedger: Ledger,
    io: FleetIo,
): boolean {
    const prev = keyLedger[secret];
    const file = readStackFile(d.keyStackFile);
    const spec = parseConfig(rawConfigOf(file), keyStack);
    const s = spec.secrets.get(secret)!;
    const declared = Object.fromEntries(["keyId", "previousKeyId", "force", "incident"].map((k) => [k, secretValue(file, secret, k)]));
    const { edits, problems } = editsFor(s, declared, to, { retired: prev.retiredKeyIds });
    if (problems.length > 0) {
        io.err(`rotate run: ${problems.join("; ")}\n`);
        return false;
    }
    const effective = edits.filter((e) => secretValue(file, secret, e.key) !== e.value);
    const text = applyEdits(file, effective);
    const after = parseStackFile(file.path, text);
    try {
        admitRotation(parseConfig(rawConfigOf(after), keyStack), keyLedger, io.now(), exchangeKeysOf(after));
    } catch (e) {
        if (e instanceof ConfigError) {
            io.err(`rotate run: ${e.message}\n`);
            return false;
        }
        throw e;
    }
    d.writeKeyStackFile(text);
    io.out(`- ${basename(file.path)}: ${secret} ${describePoint(s)} -> ${describePoint(to)} (commit this change)\n`);
    return true;
}
