// The fleet's stacks through the Automation API, for `rotate run` and
// `rotate status --stacks`: the repository's own engine and local backend
// (as scripts/pulumi.sh runs them) or the `pulumi` on PATH with the
// operator's backend (cli/backend.ts decides which, per the key stack).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalWorkspace, LocalWorkspaceOptions, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { Backend, localEngineEnv } from "../backend";
import { FleetDriver } from "./fleet";
import { LedgerReadError } from "./ledgerSource";

/** The environment scripts/pulumi.sh gives the repository's engine (its plugin links are made by running it once). */
function repoEnv(repo: string, env: NodeJS.ProcessEnv): Record<string, string> {
    const state = env.PULUMI_STATE_DIR ?? join(repo, ".pulumi-dev");
    return localEngineEnv(join(state, "home"), join(state, "backend"), env.PULUMI_CONFIG_PASSPHRASE ?? "titan-dev");
}

export async function automationDriver(
    repo: string,
    dir: string,
    backend: Backend,
    allStacks: string[],
    env: NodeJS.ProcessEnv,
    onOutput: (text: string) => void,
): Promise<FleetDriver> {
    const unavailable = backend.unavailable();
    // Stacks that cannot be reached are stacks whose ledgers cannot be read (exit 4), not a usage error.
    if (unavailable) throw new LedgerReadError(`cannot reach the stacks: ${unavailable}`);
    let options: LocalWorkspaceOptions;
    if (backend.kind === "repo") {
        const r = backend.run(["version"]); // links the providers into PULUMI_HOME, as every repo command does
        if (r.status !== 0) throw new LedgerReadError(`cannot reach the stacks: scripts/pulumi.sh version failed: ${r.stderr.trim()}`);
        options = { pulumiCommand: await PulumiCommand.get({ root: join(repo, ".engine") }), envVars: repoEnv(repo, env) };
    } else {
        options = { pulumiCommand: await PulumiCommand.get({ skipVersionCheck: true }) };
    }
    const stacks = new Map<string, Stack>();
    const stackOf = async (name: string) => {
        let s = stacks.get(name);
        if (!s) {
            // The repository's own backend is a sandbox: its stacks are made on first use. On the
            // operator's backend a stack that does not exist is an error (a typo must not create one).
            try {
                s =
                    backend.kind === "repo"
                        ? await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: dir }, options)
                        : await LocalWorkspace.selectStack({ stackName: name, workDir: dir }, options);
            } catch (e) {
                const why = (e instanceof Error ? e.message : String(e)).trim().split("\n").filter(Boolean).pop() ?? "no message";
                throw new LedgerReadError(`cannot reach stack ${name} in ${backend.description}: ${why}`);
            }
            stacks.set(name, s);
        }
        return s;
    };
    // The key stack reads every cluster's stack, so they exist before its first up.
    for (const name of allStacks) await stackOf(name);
    return {
        keyStackFile: join(dir, `Pulumi.${allStacks[0]}.yaml`),
        ledger: async (name) => (await (await stackOf(name)).outputs()).ledger?.value,
        up: async (name) => {
            await (await stackOf(name)).up({ onOutput, color: "never" });
        },
        writeKeyStackFile: (text) => writeFileSync(join(dir, `Pulumi.${allStacks[0]}.yaml`), text),
    };
}
