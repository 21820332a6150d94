// Finding and killing the processes of a `pulumi up` the way a crashed CI
// runner or a lost machine would: SIGKILL, the CLI and everything it
// started (language host, program, providers), with no chance to clean up.

import { readFileSync, readdirSync, readlinkSync } from "node:fs";

function children(): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            // Field 4 of /proc/PID/stat is the parent pid (after the command in parentheses).
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            out.set(ppid, [...(out.get(ppid) ?? []), Number(entry)]);
        } catch {
            // The process ended while we looked.
        }
    }
    return out;
}

/** Pids of `pulumi` CLI processes whose working directory is `dir`. */
export function pulumiProcessesIn(dir: string): number[] {
    const out: number[] = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const argv0 = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0];
            if (argv0.endsWith("/pulumi") && readlinkSync(`/proc/${entry}/cwd`) === dir) out.push(Number(entry));
        } catch {
            // Gone, or not ours to read.
        }
    }
    return out;
}

/** SIGKILLs `pid` and all its descendants at once; returns how many were killed. */
export function killTree(pid: number): number {
    const tree = children();
    const all: number[] = [];
    const walk = (p: number) => {
        all.push(p);
        for (const c of tree.get(p) ?? []) walk(c);
    };
    walk(pid);
    let killed = 0;
    for (const p of all) {
        try {
            process.kill(p, "SIGKILL");
            killed++;
        } catch {
            // Already gone.
        }
    }
    return killed;
}
