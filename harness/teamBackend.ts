// A second Pulumi file backend standing in for the team's: its own
// PULUMI_BACKEND_URL, PULUMI_HOME and passphrase, reached only through the
// `pulumi` on PATH (the engine built in .engine/bin), as an operator's
// logged-in CLI would be. A stack there is given the state an up would have
// left: the `ledger` output and, optionally, key resources (secret values).

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { parse } from "yaml";
import { ENGINE_ROOT } from "./engine";

export interface TeamBackend {
    /** The environment of a shell logged in to it. */
    env: Record<string, string>;
    /** Runs `pulumi` there, in `cwd` (a checkout with Pulumi.yaml). */
    pulumi(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string };
}

export function teamBackend(dir: string): TeamBackend {
    mkdirSync(join(dir, "backend"), { recursive: true });
    const env: Record<string, string> = {
        PATH: [join(ENGINE_ROOT, "bin"), process.env.PATH ?? ""].join(delimiter),
        HOME: dir,
        PULUMI_HOME: join(dir, "home"),
        PULUMI_BACKEND_URL: `file://${join(dir, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: "the-team-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    const pulumi = (args: string[], cwd: string) => {
        const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd, env, encoding: "utf8", timeout: 120_000 });
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.error ? String(r.error) : (r.stderr ?? "") };
    };
    return { env, pulumi };
}

/**
 * Creates `stack` in the backend from the checkout `cwd` (passphrase secrets:
 * the salt goes into the checkout's stack file) and imports a state holding
 * the ledger output and one RandomPassword per entry of `keys` (name -> value).
 */
export function seedStack(team: TeamBackend, cwd: string, stack: string, ledger: unknown, keys: Record<string, string> = {}): void {
    const init = team.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"], cwd);
    if (init.status !== 0) throw new Error(`pulumi stack init ${stack}: ${init.stderr}`);
    const { encryptionsalt } = parse(readFileSync(join(cwd, `Pulumi.${stack}.yaml`), "utf8")) as { encryptionsalt: string };
    const stackUrn = `urn:pulumi:${stack}::titan-secrets::pulumi:pulumi:Stack::titan-secrets-${stack}`;
    const secret = (v: string) => ({
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        plaintext: JSON.stringify(v),
    });
    const state = {
        version: 3,
        deployment: {
            manifest: { time: new Date().toISOString(), magic: "", version: "" },
            secrets_providers: { type: "passphrase", state: { salt: encryptionsalt } },
            resources: [
                { urn: stackUrn, custom: false, type: "pulumi:pulumi:Stack", outputs: { ledger } },
                ...Object.entries(keys).map(([name, value]) => ({
                    urn: `urn:pulumi:${stack}::titan-secrets::random:index/randomPassword:RandomPassword::${name}`,
                    custom: true,
                    id: "none",
                    type: "random:index/randomPassword:RandomPassword",
                    parent: stackUrn,
                    inputs: { length: 64 },
                    outputs: { length: 64, result: secret(value) },
                })),
            ],
        },
    };
    const file = join(team.env.HOME, `state-${stack}.json`);
    writeFileSync(file, JSON.stringify(state));
    const imported = team.pulumi(["stack", "import", "--stack", stack, "--file", file], cwd);
    if (imported.status !== 0) throw new Error(`pulumi stack import ${stack}: ${imported.stderr}`);
}
