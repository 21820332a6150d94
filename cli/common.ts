// What both command-line tools share: the usage error (exit 2) and the way
// they run a command (injectable, so tests give their own).

import { spawnSync } from "node:child_process";

/** Bad arguments: the tools print it with a pointer to --help and exit 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** Runs a command and returns its exit status and output. */
export type Runner = (cmd: string, args: string[], cwd: string) => { status: number | null; stdout: string; stderr: string };

/** The real runner: up to 5 minutes and 512 MiB of output (a stack export with every secret shown). */
export const spawnRunner: Runner = (cmd, args, cwd) => {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300_000, maxBuffer: 512 * 1024 * 1024 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.error ? String(r.error.message) : (r.stderr ?? "") };
};

/** What both tools are given: their output, the repository, the way to run a command, and the environment (cli/backend.ts). */
export interface ToolIo {
    out(text: string): void;
    err(text: string): void;
    /** The repository: scripts/pulumi.sh, .engine/ and the stack files. */
    repo: string;
    run: Runner;
    /** PATH and PULUMI_BACKEND_URL decide the operator's backend. */
    env: NodeJS.ProcessEnv;
}

export function processToolIo(repo: string, run: Runner): ToolIo {
    return { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t), repo, run, env: process.env };
}

/**
 * The member names given more than once in a JSON text (already parsed, so
 * well-formed), in every object at any depth, each with the names of the
 * members it is inside (`["titan-hmac"]` for a field of that row). Names are
 * compared decoded (`"a"` and `"\u0061"` are one name). JSON.parse keeps
 * the last of two equal names without a word: what the first said is lost.
 */
export function duplicateJsonNames(text: string): Array<{ path: string[]; name: string }> {
    const out: Array<{ path: string[]; name: string }> = [];
    // One frame per open object or array; `name`: the object's member being read.
    const frames: Array<{ object: boolean; seen: Set<string>; expectName: boolean; name?: string }> = [];
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        const top = frames[frames.length - 1];
        if (c === '"') {
            let j = i + 1;
            while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
            if (top?.object && top.expectName) {
                const name = JSON.parse(text.slice(i, j + 1)) as string;
                const path = frames.slice(0, -1).flatMap((f) => (f.object && f.name !== undefined ? [f.name] : []));
                if (top.seen.has(name) && !out.some((d) => d.name === name && d.path.join("\0") === path.join("\0")))
                    out.push({ path, name });
                top.seen.add(name);
                top.name = name;
                top.expectName = false;
            }
            i = j;
        } else if (c === "{" || c === "[") frames.push({ object: c === "{", seen: new Set(), expectName: c === "{" });
        else if (c === "}" || c === "]") frames.pop();
        else if (c === "," && top?.object) top.expectName = true;
    }
    return out;
}
