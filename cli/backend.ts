// Where the tools read a stack (its outputs, state and config): one rule for
// `rotate`, `check-logs` and `rotate recover`.
//   - "repo": the repository's own local backend, through scripts/pulumi.sh
//     and the engine built in .engine/bin (the default for dev and local);
//   - "login": the `pulumi` on PATH with the operator's own backend (whatever
//     `pulumi login` or PULUMI_BACKEND_URL names, and its secrets provider);
//     the default for every other stack, e.g. prod on the team's backend.
// `--backend repo|login` overrides the default.

import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { Runner, UsageError } from "./common";

/** Stacks whose state is in the repository's local backend (scripts/pulumi.sh): dev, local and the two-cluster lab. */
export const REPO_BACKEND_STACKS = ["dev", "local", "lab-keys", "lab-eu", "lab-us"];

export type BackendKind = "repo" | "login";

export interface Backend {
    kind: BackendKind;
    /** For a person: which backend, e.g. "the repository's local backend (.pulumi-dev)". */
    description: string;
    /** The command line a person would type, for messages: "bash scripts/pulumi.sh" or "pulumi". */
    shown: string;
    /** Why this backend cannot be used on this machine, or undefined. */
    unavailable(): string | undefined;
    /** Runs `pulumi <args>` against this backend, in the repository (the project's Pulumi.yaml). */
    run(args: string[]): ReturnType<Runner>;
}

/** The backend for a stack: `--backend` when given, else repo for dev and local, login for the rest. */
export function backendFor(repo: string, stack: string, run: Runner, choice?: string, env: NodeJS.ProcessEnv = process.env): Backend {
    if (choice !== undefined && choice !== "repo" && choice !== "login") {
        throw new UsageError(
            `--backend: found ${JSON.stringify(choice)}; allowed: repo (this repository's local backend) or login (the pulumi on PATH)`,
        );
    }
    const kind: BackendKind = (choice as BackendKind | undefined) ?? (REPO_BACKEND_STACKS.includes(stack) ? "repo" : "login");
    if (kind === "repo") {
        return {
            kind,
            description: "the repository's local backend (scripts/pulumi.sh)",
            shown: "bash scripts/pulumi.sh",
            unavailable: () => {
                if (!existsSync(join(repo, "scripts", "pulumi.sh"))) return `scripts/pulumi.sh is missing in ${repo}`;
                if (!existsSync(join(repo, ".engine", "bin", "pulumi")))
                    return "the Pulumi CLI is not built (.engine/bin/pulumi is missing; run: bash scripts/setup.sh)";
                return undefined;
            },
            run: (args) => run("bash", [join(repo, "scripts", "pulumi.sh"), ...args], repo),
        };
    }
    const url = env.PULUMI_BACKEND_URL;
    return {
        kind,
        description: url
            ? `the backend of PULUMI_BACKEND_URL (${url.replace(/\/\/[^/@]*@/, "//***@")})`
            : "the backend pulumi is logged in to",
        shown: "pulumi",
        unavailable: () =>
            onPath("pulumi", env) ? undefined : "no pulumi on PATH (install the Pulumi CLI and log in to the team's backend)",
        run: (args) => run("pulumi", [...args, "--non-interactive"], repo),
    };
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
    return (env.PATH ?? "").split(delimiter).some((d) => d.length > 0 && existsSync(join(d, cmd)));
}

/**
 * The environment of an engine run on a local file backend with passphrase
 * secrets: no update check, no plugin download, only the plugins linked into
 * `home`, and no ambient kubeconfig (render mode refuses one). What
 * scripts/pulumi.sh sets, for runs through the Automation API.
 */
export function localEngineEnv(home: string, backendDir: string, passphrase: string): Record<string, string> {
    return {
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        KUBECONFIG: "",
    };
}
