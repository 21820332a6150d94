// `rotate recover`: what a stack needs after an up that was killed (a lost
// CI runner, SIGKILL, a machine that went away) before the next up can run.
// The engine leaves two things behind: the stack's lock (every later command
// fails with "the stack is currently locked"), and pending operations for
// steps that were in flight. A lock is removed only when it is provably
// stale (taken on this host by a process that is gone); anything else is
// refused with the exact command to run once a person has checked. The next
// `pulumi up` then converges: the program waits again for every roll-out the
// ledger has not recorded, so presenters move only after the verifiers.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT } from "../../model";
import { STACK_NAME } from "./args";

/** Runs the pulumi CLI with these arguments (the same backend and passphrase as the stack's ups). */
export type PulumiRunner = (args: string[]) => { status: number | null; stdout: string; stderr: string };

export interface LockInfo {
    file: string;
    pid: number;
    hostname: string;
    username?: string;
    timestamp?: string;
}

export interface Host {
    hostname: string;
    /** Whether a `pulumi` process with this pid runs on this host now. */
    pulumiRunning(pid: number): boolean;
}

/** This machine: a lock is stale when it names this host and a pid that is not a running pulumi. */
export function thisHost(): Host {
    return {
        hostname: hostname(),
        pulumiRunning: (pid) => {
            try {
                return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0].endsWith("pulumi");
            } catch {
                return false;
            }
        },
    };
}

export interface RecoverReport {
    stack: string;
    /** Stale locks removed (pulumi cancel). */
    removedLocks: LockInfo[];
    /** Pending operations found in the state, by type. */
    pending: { type: string; urn: string }[];
    /** Commands run, in order. */
    ran: string[];
    /** Whether its locks were looked at: a file backend's are files here; any other backend keeps its own. */
    locksChecked: boolean;
    /** Set when nothing was done because a person must decide. */
    refused?: string;
    next: string;
}

export class RecoverError extends Error {}

/** The backend did not answer (whoami, stack export): nothing is known about the stack's locks or state (rotate exits 4). */
export class RecoverReadError extends RecoverError {}

/**
 * The lock files of this project's stack in a file:// backend (none for other
 * backends): `.pulumi/locks/organization/<project>/<stack>/` (a backend that
 * holds several projects, each with its own stacks) or
 * `.pulumi/locks/<stack>/` (the older layout, one namespace of stacks). Only
 * those two folders: another project's stack of the same name is not ours to
 * unlock.
 */
export function locksOf(backendUrl: string, stack: string, project: string = PROJECT): LockInfo[] {
    if (!backendUrl.startsWith("file://")) return [];
    if (!STACK_NAME.test(stack)) throw new RecoverError(`${JSON.stringify(stack)} is not a stack name`);
    const root = join(backendFolder(backendUrl), ".pulumi", "locks");
    const out: LockInfo[] = [];
    for (const dir of [join(root, "organization", project, stack), join(root, stack)]) {
        if (!existsSync(dir)) continue;
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
            if (entry.isFile() && entry.name.endsWith(".json")) {
                const path = join(dir, entry.name);
                out.push(parseLock(path, readFileSync(path, "utf8")));
            }
        }
    }
    return out;
}

/** The folder of a file:// backend; `file://~` (what `pulumi login --local` records) is the home folder, as Pulumi reads it. */
function backendFolder(backendUrl: string): string {
    const url = backendUrl.split("?")[0];
    if (url === "file://~" || url.startsWith("file://~/")) return join(homedir(), url.slice("file://~".length));
    try {
        return fileURLToPath(url);
    } catch {
        throw new RecoverReadError(`cannot read the stack's locks: the backend URL ${url} is not a folder of this host`);
    }
}

/** A lock file's content; one that cannot be read is refused, never taken as stale. */
export function parseLock(file: string, text: string): LockInfo {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch {
        throw new RecoverError(`the lock file ${file} is not JSON: a person must look at it before it is removed`);
    }
    const r = raw as Record<string, unknown>;
    if (typeof r.pid !== "number" || typeof r.hostname !== "string") {
        throw new RecoverError(`the lock file ${file} names no pid and hostname: a person must look at it before it is removed`);
    }
    return {
        file,
        pid: r.pid,
        hostname: r.hostname,
        username: typeof r.username === "string" ? r.username : undefined,
        timestamp: typeof r.timestamp === "string" ? r.timestamp : undefined,
    };
}

function json(r: ReturnType<PulumiRunner>, what: string): unknown {
    if (r.status !== 0)
        throw new RecoverReadError(`cannot read the stack: ${what} failed: ${r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`}`);
    try {
        return JSON.parse(r.stdout);
    } catch {
        throw new RecoverReadError(`cannot read the stack: ${what} printed no JSON`);
    }
}

export function recover(stack: string, pulumi: PulumiRunner, host: Host, project: string = PROJECT): RecoverReport {
    const whoami = json(pulumi(["whoami", "--json"]), "pulumi whoami") as { url?: unknown };
    // Without the backend's URL, where its locks are is unknown: never "no stale lock".
    if (typeof whoami.url !== "string" || whoami.url === "")
        throw new RecoverReadError("cannot read the stack: pulumi whoami --json names no backend URL, so its locks cannot be found");
    const url = whoami.url;
    const report: RecoverReport = {
        stack,
        removedLocks: [],
        pending: [],
        ran: [],
        locksChecked: url.startsWith("file://"),
        next: `pulumi up --stack ${stack}`,
    };
    const locks = locksOf(url, stack, project);
    const live = locks.filter((l) => l.hostname !== host.hostname || host.pulumiRunning(l.pid));
    if (live.length > 0) {
        const l = live[0];
        report.refused =
            `stack ${stack} is locked by pid ${l.pid} on ${l.hostname} (${l.username ?? "?"}, since ${l.timestamp ?? "?"}), which ` +
            (l.hostname === host.hostname ? "is still running: wait for it to end." : "this host cannot check.") +
            ` Once you are sure no update runs: pulumi cancel --stack ${stack} --yes, then rotate recover again.`;
        return report;
    }
    if (locks.length > 0) {
        const r = pulumi(["cancel", "--stack", stack, "--yes"]);
        if (r.status !== 0) throw new RecoverError(`pulumi cancel failed: ${r.stderr.trim()}`);
        report.ran.push(`pulumi cancel --stack ${stack} --yes`);
        report.removedLocks = locks;
    } else if (!url.startsWith("file://")) {
        report.next = `if an update was interrupted and the backend still shows it running: pulumi cancel --stack ${stack}; then pulumi up --stack ${stack}`;
    }
    const state = json(pulumi(["stack", "export", "--stack", stack]), "pulumi stack export") as {
        deployment?: { pending_operations?: { type: string; resource: { urn: string } }[] };
    };
    report.pending = (state.deployment?.pending_operations ?? []).map((p) => ({ type: p.type, urn: p.resource.urn }));
    // A create that was in flight may or may not have happened. Dropping it is
    // safe here: the next up applies the same object again (server-side apply
    // is an upsert) or creates a fresh key that nothing has used.
    if (report.pending.some((p) => p.type === "creating")) {
        const r = pulumi(["refresh", "--stack", stack, "--clear-pending-creates", "--yes", "--skip-preview"]);
        if (r.status !== 0) throw new RecoverError(`pulumi refresh --clear-pending-creates failed: ${r.stderr.trim()}`);
        report.ran.push(`pulumi refresh --stack ${stack} --clear-pending-creates --yes --skip-preview`);
    }
    return report;
}

export function formatRecover(r: RecoverReport): string {
    if (r.refused) return `rotate recover: nothing done. ${r.refused}\n`;
    const lines = [
        r.removedLocks.length > 0
            ? `Removed ${r.removedLocks.length} stale lock(s) of stack ${r.stack}: ${r.removedLocks.map((l) => `pid ${l.pid} on ${l.hostname} since ${l.timestamp ?? "?"}`).join("; ")} (the process is gone).`
            : r.locksChecked
              ? `Stack ${r.stack} holds no stale lock.`
              : `The locks of stack ${r.stack} are kept by its backend, not in files here: not checked.`,
        r.pending.length > 0
            ? `Pending operations of the interrupted up: ${r.pending.map((p) => `${p.type} ${p.urn.split("::").pop()}`).join(", ")}.`
            : "No pending operations.",
        ...r.ran.map((c) => `Ran: ${c}`),
        `Next: ${r.next} (it waits again for every roll-out the last ledger does not record, so the order holds).`,
    ];
    return lines.join("\n") + "\n";
}
