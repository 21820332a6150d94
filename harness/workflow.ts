// Runs the steps of a GitHub workflow that can run here, as the runner
// would: `run:` steps through bash (-eo pipefail) with the job's and the
// step's env, GITHUB_OUTPUT, GITHUB_ENV and RUNNER_TEMP files; and
// `actions/github-script` steps as the async function the action builds
// from `script:`, with a `github` client and `context` the test provides.
// Every `${{ ... }}` must be one the test gave a value for: an expression
// this runner does not know stops the step (it is never left in the text).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { parse } from "yaml";

export interface Step {
    name?: string;
    id?: string;
    uses?: string;
    run?: string;
    if?: string;
    env?: Record<string, string>;
    with?: Record<string, unknown>;
}

export interface Workflow {
    env?: Record<string, string>;
    jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
}

export function readWorkflow(path: string): Workflow {
    return parse(readFileSync(path, "utf8")) as Workflow;
}

/** The step of a job by name (or id). */
export function stepOf(wf: Workflow, job: string, name: string): Step {
    const step = wf.jobs[job]?.steps.find((s) => s.name === name || s.id === name);
    if (!step) throw new Error(`no step "${name}" in job ${job}`);
    return step;
}

/** Replaces every `${{ expr }}` with its value from `values`; an unknown expression is an error. */
export function substitute(text: string, values: Record<string, string>): string {
    return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
        if (!Object.hasOwn(values, expr)) throw new Error(`the workflow uses \${{ ${expr} }}, which this test gives no value`);
        return values[expr];
    });
}

export interface RunContext {
    /** The checkout: GITHUB_WORKSPACE and the working directory. */
    workspace: string;
    /** RUNNER_TEMP. */
    temp: string;
    /** Values of `${{ }}` expressions. */
    expressions: Record<string, string>;
    /** The machine's environment for the step (PATH, the backend, ...). */
    env: Record<string, string>;
}

export interface StepResult {
    status: number | null;
    stdout: string;
    stderr: string;
    /** What the step wrote to GITHUB_OUTPUT. */
    outputs: Record<string, string>;
    /** What it wrote to GITHUB_ENV. */
    exported: Record<string, string>;
}

function keyValues(path: string): Record<string, string> {
    if (!existsSync(path)) return {};
    const out: Record<string, string> = {};
    for (const line of readFileSync(path, "utf8").split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return out;
}

function envOf(wf: Workflow, job: string, step: Step, ctx: RunContext): Record<string, string> {
    const sub = (o?: Record<string, string>) =>
        Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, substitute(String(v), ctx.expressions)]));
    return { ...ctx.env, ...sub(wf.env), ...sub(wf.jobs[job].env), ...sub(step.env) };
}

/** Runs a `run:` step. */
export function runStep(wf: Workflow, job: string, step: Step, ctx: RunContext): StepResult {
    if (step.run === undefined) throw new Error(`step ${step.name} has no run:`);
    const n = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const output = join(ctx.temp, `output-${n}`);
    const exported = join(ctx.temp, `env-${n}`);
    writeFileSync(output, "");
    writeFileSync(exported, "");
    const script = substitute(step.run, ctx.expressions);
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
        cwd: ctx.workspace,
        encoding: "utf8",
        timeout: 300_000,
        env: {
            ...envOf(wf, job, step, ctx),
            GITHUB_OUTPUT: output,
            GITHUB_ENV: exported,
            GITHUB_WORKSPACE: ctx.workspace,
            RUNNER_TEMP: ctx.temp,
            CI: "true",
        },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs: keyValues(output), exported: keyValues(exported) };
}

/** Runs an `actions/github-script` step's script with the given client and context. */
export async function runGithubScript(
    wf: Workflow,
    job: string,
    step: Step,
    ctx: RunContext,
    github: unknown,
    context: unknown,
): Promise<unknown> {
    if (!step.uses?.startsWith("actions/github-script@")) throw new Error(`step ${step.name} is not actions/github-script`);
    const script = substitute(String(step.with?.script ?? ""), ctx.expressions);
    const env = { ...envOf(wf, job, step, ctx), RUNNER_TEMP: ctx.temp, GITHUB_WORKSPACE: ctx.workspace };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
        const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
            ...args: string[]
        ) => (...a: unknown[]) => Promise<unknown>;
        const fn = new AsyncFunction("require", "github", "context", "core", "process", script);
        const core = {
            info: () => undefined,
            warning: () => undefined,
            setFailed: (m: string) => {
                throw new Error(m);
            },
        };
        return await fn(createRequire(join(ctx.workspace, "package.json")), github, context, core, process);
    } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
    }
}
