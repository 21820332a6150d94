// Drives the real engine (built by scripts/build-engine.sh into .engine/)
// through the Automation API: a throw-away copy of the project, its own file
// backend, PULUMI_HOME and passphrase, and no network or plugin download.

import { spawnSync } from "node:child_process";
import {
    cpSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    readdirSync,
    rmSync,
    statSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { localEngineEnv } from "../cli/backend";
import { REPO } from "./stackFiles";

export const ENGINE_ROOT = join(REPO, ".engine");

export function engineMissing(): string | undefined {
    for (const bin of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "pulumi-resource-random"]) {
        if (!existsSync(join(ENGINE_ROOT, "bin", bin)))
            return `.engine/bin/${bin} is missing: run bash scripts/setup.sh (it builds the engine from Go modules)`;
    }
    return undefined;
}

/**
 * Links the built providers into PULUMI_HOME's plugin cache at the versions
 * the npm SDKs ask for (as scripts/pulumi.sh does), so the CLI finds them by
 * exact version and ignores what is on PATH.
 */
export function linkPlugins(home: string): void {
    for (const name of ["kubernetes", "random"]) {
        const version = (
            JSON.parse(readFileSync(join(REPO, "node_modules", "@pulumi", name, "package.json"), "utf8")) as { version: string }
        ).version;
        const dir = join(home, "plugins", `resource-${name}-v${version}`);
        mkdirSync(dir, { recursive: true });
        symlinkSync(join(ENGINE_ROOT, "bin", `pulumi-resource-${name}`), join(dir, `pulumi-resource-${name}`));
    }
}

/**
 * A throw-away copy of the project with a fresh file backend and
 * PULUMI_HOME (providers linked). Secrets use the dev stack's passphrase and
 * salt, so the dev stack's secure values (exchange keys) decrypt.
 */
export function projectCopy(): string {
    const dir = mkdtempSync(join(tmpdir(), "titan-e2e-"));
    for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "components", "model"])
        cpSync(join(REPO, f), join(dir, f), { recursive: true });
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    const home = join(dir, ".pulumi-home");
    for (const d of [home, join(dir, ".pulumi-state")]) mkdirSync(d, { recursive: true });
    linkPlugins(home);
    return dir;
}

export interface Step {
    /** Everything the CLI printed (stdout and stderr). */
    output: string;
    events: EngineEvent[];
    error?: Error;
}

export class E2EProject {
    readonly dir: string;
    readonly stack: Stack;
    /** Every line every command printed, for the leak search. */
    readonly transcript: string[] = [];

    private constructor(dir: string, stack: Stack) {
        this.dir = dir;
        this.stack = stack;
    }

    /**
     * A copy of the project with `Pulumi.<stackName>.yaml` from `config`, and a
     * fresh backend. Secrets use the dev stack's passphrase and salt, so the
     * dev stack's secure values (exchange keys) decrypt.
     */
    static async create(stackName: string, config: Record<string, unknown>): Promise<E2EProject> {
        return E2EProject.open(projectCopy(), stackName, config);
    }

    /**
     * Another stack of an existing copy (projectCopy), on the same backend:
     * the stacks of one fleet read each other through StackReferences.
     */
    static async open(dir: string, stackName: string, config: Record<string, unknown>): Promise<E2EProject> {
        const { encryptionsalt } = parse(readFileSync(join(REPO, "Pulumi.dev.yaml"), "utf8")) as { encryptionsalt: string };
        writeFileSync(join(dir, `Pulumi.${stackName}.yaml`), stringify({ config, encryptionsalt }));
        const home = join(dir, ".pulumi-home");
        const backend = join(dir, ".pulumi-state");
        const pulumiCommand = await PulumiCommand.get({ root: ENGINE_ROOT });
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, workDir: dir },
            {
                pulumiCommand,
                envVars: localEngineEnv(home, backend, "titan-dev"),
            },
        );
        return new E2EProject(dir, stack);
    }

    /** Rewrites the stack file's titan-secrets config, as a person editing it would. */
    setConfig(key: string, value: unknown): void {
        const file = join(this.dir, `Pulumi.${this.stack.name}.yaml`);
        const doc = parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
        doc.config[`titan-secrets:${key}`] = value;
        writeFileSync(file, stringify(doc));
    }

    async up(): Promise<Step> {
        return this.run((onOutput, onEvent) => this.stack.up({ onOutput, onEvent, color: "never" }));
    }

    async preview(): Promise<Step & { changes: Record<string, number> }> {
        let changes: Record<string, number> = {};
        const step = await this.run(async (onOutput, onEvent) => {
            const r = await this.stack.preview({ onOutput, onEvent, color: "never", diff: true });
            changes = r.changeSummary as Record<string, number>;
            return r;
        });
        return { ...step, changes };
    }

    /** `pulumi stack export`, plain (secrets stay ciphertext) or with --show-secrets. */
    async exportState(showSecrets = false): Promise<string> {
        const args = ["stack", "export", "--stack", this.stack.name, ...(showSecrets ? ["--show-secrets"] : [])];
        // PulumiCommand.run is the Automation API's own way to run the CLI (untyped).
        const cmd = this.stack.workspace.pulumiCommand as unknown as {
            run(args: string[], cwd: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
        };
        const r = await cmd.run(args, this.dir, this.stack.workspace.envVars ?? {});
        if (!showSecrets) this.transcript.push(r.stdout, r.stderr);
        return r.stdout;
    }

    /** Runs the CLI with this project's backend and passphrase (for commands the Automation API has no call for). */
    cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
        const r = spawnSync(join(ENGINE_ROOT, "bin", "pulumi"), args, {
            cwd: this.dir,
            env: { ...process.env, ...this.stack.workspace.envVars },
            encoding: "utf8",
            timeout: 300_000,
        });
        this.transcript.push(r.stdout ?? "", r.stderr ?? "");
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    /** Every generated key and password in state (resource name -> value), from the operator's view (--show-secrets). */
    async keyValues(): Promise<Map<string, string>> {
        const state = JSON.parse(await this.exportState(true)) as {
            deployment: { resources?: { type: string; urn: string; outputs: { result: unknown } }[] };
        };
        const out = new Map<string, string>();
        for (const r of state.deployment.resources ?? []) {
            if (r.type === "random:index/randomPassword:RandomPassword")
                out.set(r.urn.split("::").pop()!, plainSecret(r.outputs.result) as string);
        }
        return out;
    }

    async outputs(): Promise<Record<string, unknown>> {
        const out = await this.stack.outputs();
        const plain = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
        // The Automation API decrypts secret outputs; the transcript keeps what `pulumi stack output` shows.
        this.transcript.push(JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]))));
        return plain;
    }

    /** Rendered manifests: file path -> parsed object. */
    rendered(folder = "rendered"): Map<string, Record<string, any>> {
        const out = new Map<string, Record<string, any>>();
        const root = join(this.dir, folder);
        if (!existsSync(root)) return out;
        for (const sub of readdirSync(root)) {
            for (const f of readdirSync(join(root, sub))) {
                const path = join(root, sub, f);
                out.set(path, parse(readFileSync(path, "utf8")));
            }
        }
        return out;
    }

    renderedModes(): number[] {
        return [...this.rendered().keys()].map((p) => statSync(p).mode & 0o777);
    }

    destroy(): void {
        rmSync(this.dir, { recursive: true, force: true });
    }

    private async run<T>(f: (onOutput: (s: string) => void, onEvent: (e: EngineEvent) => void) => Promise<T>): Promise<Step> {
        const chunks: string[] = [];
        const events: EngineEvent[] = [];
        let error: Error | undefined;
        try {
            await f(
                (s) => chunks.push(s),
                (e) => events.push(e),
            );
        } catch (e) {
            error = e as Error;
            chunks.push(String((e as Error).message));
        }
        const output = chunks.join("");
        this.transcript.push(output, JSON.stringify(events));
        return { output, events, error };
    }
}

/** A secret in a --show-secrets export ({<sig>: ..., plaintext: "<JSON>"}) as its value; anything else as it is. */
export function plainSecret(v: any): any {
    return v && typeof v === "object" && "plaintext" in v ? JSON.parse(v.plaintext) : v;
}

/** The steps the engine ran for resources of a type: [logical name, op, "pre" | "done"], in order. */
export function stepLog(events: EngineEvent[], type: string | readonly string[]): [string, string, "pre" | "done"][] {
    const types = typeof type === "string" ? [type] : type;
    const out: [string, string, "pre" | "done"][] = [];
    for (const e of events) {
        const pre = e.resourcePreEvent?.metadata;
        const done = e.resOutputsEvent?.metadata;
        const m = pre ?? done;
        if (!m || !types.includes(m.type)) continue;
        out.push([m.urn.split("::").pop()!, m.op, pre ? "pre" : "done"]);
    }
    return out;
}
