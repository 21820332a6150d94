// The policy pack through the real engine: `pulumi preview --policy-pack
// policy/local` through the Automation API. Our engine's Node.js language
// host cannot start policy packs, so the pack runs through policy/local
// (runtime `titan-node`) and its launcher, found in the plugin cache or on
// PATH: exactly what `bash policy/preview.sh` does.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { E2EProject, engineMissing } from "./engine";
import { REPO } from "./stackFiles";

export const LOCAL_PACK = join(REPO, "policy", "local");

export function policyMissing(): string | undefined {
    return (
        engineMissing() ??
        (existsSync(join(REPO, "policy", "node_modules", "@pulumi", "policy"))
            ? undefined
            : "policy/node_modules is missing: run npm ci --prefix policy")
    );
}

/** Makes the pack's launcher findable for the projects in `dir` (PATH and their PULUMI_HOME). */
export function usePolicyPack(dir: string): void {
    // The CLI finds the launcher on PATH (its ambient plugin search) or in the plugin cache.
    if (!(process.env.PATH ?? "").split(delimiter).includes(LOCAL_PACK))
        process.env.PATH = `${LOCAL_PACK}${delimiter}${process.env.PATH ?? ""}`;
    execFileSync("bash", [join(LOCAL_PACK, "install-launcher.sh"), join(dir, ".pulumi-home")]);
}

export interface PolicyRun {
    error?: Error;
    output: string;
    violations: { policy: string; level: string; message: string; resource: string }[];
}

/** `pulumi preview --policy-pack policy/local` through the Automation API. */
export async function previewWithPolicy(project: E2EProject): Promise<PolicyRun> {
    const events: EngineEvent[] = [];
    const chunks: string[] = [];
    let error: Error | undefined;
    try {
        await project.stack.preview({
            policyPacks: [LOCAL_PACK],
            color: "never",
            onOutput: (s) => chunks.push(s),
            onEvent: (e) => events.push(e),
        });
    } catch (e) {
        error = e as Error;
        chunks.push(String(error.message));
    }
    const violations = events
        .map((e) => e.policyEvent)
        .filter((p): p is NonNullable<EngineEvent["policyEvent"]> => p !== undefined)
        // The engine's message is the policy's description, then what it reported.
        .map((p) => ({
            policy: p.policyName,
            level: p.enforcementLevel,
            message: p.message.trim().split("\n").slice(1).join("\n"),
            resource: p.resourceUrn?.split("::").pop() ?? "",
        }));
    return { error, output: chunks.join(""), violations };
}
