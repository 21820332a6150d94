// Figure 4: `pulumi preview` through the real engine (.engine/bin, built by
// scripts/setup.sh) for the prod-sized fleet, against a baseline program
// that declares the same custom resources with trivial inputs, through the
// same engine, language host and providers. Driven by the e2e harness
// (test/e2e/harness.ts): a throw-away copy of the project, its own file
// backend, PULUMI_HOME and passphrase, no network.

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawConfig } from "../components/model";
import { E2EProject, ENGINE_ROOT, engineMissing } from "../test/e2e/harness";
import { stackConfig } from "../test/support/stackFiles";
import { ResourceCounts } from "./mockRun";

export { engineMissing };

const hasPlugin = (name: string) => existsSync(join(ENGINE_ROOT, "bin", `pulumi-resource-${name}`));

/**
 * Pulumi.prod.yaml's config, rendering manifests to a folder instead of
 * reaching the cluster. What needs a provider plugin that .engine/bin does
 * not hold (scripts/setup.sh builds kubernetes and random) is left out and
 * listed in `dropped`: AWS-backed secrets (rds, elasticache), the AWS
 * Secrets Manager and Vault stores, and the aws region.
 */
export function prodConfigForEngine(): { config: Record<string, unknown>; dropped: string[] } {
    const config = { ...stackConfig("prod").all };
    const dropped: string[] = [];
    const k8s = { ...(config["titan-secrets:kubernetes"] as Record<string, unknown>) };
    delete k8s.context;
    config["titan-secrets:kubernetes"] = { ...k8s, renderDir: "rendered" };
    const aws = hasPlugin("aws");
    const vault = hasPlugin("vault");
    const stores = { ...((config["titan-secrets:stores"] as Record<string, unknown> | undefined) ?? {}) };
    if (!vault && "vault" in stores) {
        delete stores.vault;
        dropped.push("stores.vault (no pulumi-resource-vault)");
    }
    if (!aws && "secretsManager" in stores) {
        delete stores.secretsManager;
        dropped.push("stores.secretsManager (no pulumi-resource-aws)");
    }
    if (Object.keys(stores).length > 0) config["titan-secrets:stores"] = stores;
    else delete config["titan-secrets:stores"];
    const secrets = { ...((config["titan-secrets:secrets"] as Record<string, { backend?: { type?: string } }> | undefined) ?? {}) };
    for (const [name, s] of Object.entries(secrets)) {
        const type = s.backend?.type;
        if (!aws && (type === "rds" || type === "elasticache")) {
            delete secrets[name];
            dropped.push(`secrets.${name} (${type}: no pulumi-resource-aws)`);
        }
    }
    config["titan-secrets:secrets"] = secrets;
    if (!aws && "titan-secrets:aws" in config) {
        delete config["titan-secrets:aws"];
        dropped.push("aws (no pulumi-resource-aws)");
    }
    return { config, dropped };
}

/** The program's raw config from a stack file's config map. */
export function rawOf(config: Record<string, unknown>): RawConfig {
    const get = (k: string) => config[`titan-secrets:${k}`];
    return { kubernetes: get("kubernetes"), stores: get("stores"), aws: get("aws"), services: get("services"), secrets: get("secrets") };
}

/** index.ts of the baseline: the same custom resources, trivial inputs, no components (as bench/mockRun.ts `declareBaseline`). */
export function baselineProgram(counts: ResourceCounts): string {
    return `// Benchmark baseline: ${JSON.stringify(counts)}
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";

const provider = new k8s.Provider("render", { renderYamlToDirectory: "rendered" });
for (let i = 0; i < ${counts.randomPassword}; i++) new random.RandomPassword(\`key-\${i}\`, { length: 64, special: false });
for (let i = 0; i < ${counts.secret}; i++) {
    new k8s.core.v1.Secret(\`secret-\${i}\`, { metadata: { name: \`secret-\${i}\`, namespace: "titan" }, stringData: { KEY: "value" } }, { provider });
}
for (let i = 0; i < ${counts.deployment}; i++) {
    const app = \`app-\${i}\`;
    new k8s.apps.v1.Deployment(
        app,
        {
            metadata: { name: app, namespace: "titan" },
            spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: "registry.example/app:1" }] } } },
        },
        { provider },
    );
}
`;
}

export interface PreviewTimer {
    /** One `pulumi preview`; its wall time in ms and the change summary. */
    preview(): Promise<{ ms: number; changes: Record<string, number> }>;
    destroy(): void;
}

/** A fresh project copy on its own backend; `baseline` swaps index.ts for the baseline program. */
export async function previewTimer(config: Record<string, unknown>, baseline?: ResourceCounts): Promise<PreviewTimer> {
    const project = await E2EProject.create("bench", config);
    if (baseline) writeFileSync(join(project.dir, "index.ts"), baselineProgram(baseline));
    return {
        async preview() {
            const start = performance.now();
            const step = await project.preview();
            const ms = performance.now() - start;
            if (step.error) throw new Error(`pulumi preview failed in ${project.dir}: ${step.error.message}\n${step.output.slice(-2000)}`);
            return { ms, changes: step.changes };
        },
        destroy: () => project.destroy(),
    };
}
