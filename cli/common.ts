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
