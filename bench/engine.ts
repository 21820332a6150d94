// Figure 4: `pulumi preview` through the real engine (.engine/bin, built by
// scripts/setup.sh) for the prod-sized fleet, against a baseline program
// that declares the same custom resources with trivial inputs, through the
// same engine, language host and providers. Driven by the e2e harness
// (harness/engine.ts): a throw-away copy of the project, its own file
// backend, PULUMI_HOME and passphrase, no network.
//
// Pulumi.prod.yaml holds no exchange API keys (they are secure values in the
// team's backend, encrypted by the prod stack's secrets provider, which a
// throw-away project cannot decrypt). The program refuses an API key secret
// whose live generations have no key, so the bench gives its copy keys of
// its own: random test values, set with `pulumi config set-all --secret
// --path` in the throw-away stack (encrypted with its passphrase, as a
// person would set them), never printed, and searched for in every preview's
// output.

import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawConfigFrom, EXCHANGE_KEY_FIELDS, RawConfig, parseConfig, specView } from "../model";
import { E2EProject, ENGINE_ROOT, engineMissing } from "../harness/engine";
import { stackConfig } from "../harness/stackFiles";
import { BenchConfig, ResourceCounts } from "./mockRun";

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
    return engineConfigOf(stackConfig("prod").all);
}

/** As prodConfigForEngine, for any stack file's config map. */
export function engineConfigOf(stackConfigMap: Record<string, unknown>): { config: Record<string, unknown>; dropped: string[] } {
    const config = { ...stackConfigMap };
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

/** The program's raw config from a stack file's config map (the model's one reader). */
export function rawOf(config: Record<string, unknown>): RawConfig {
    return rawConfigFrom(config);
}

/** exchangeKeys.<secret>.g<N>.apiKey / .apiSecret: what the program reads from secure config. */
export type ExchangeKeys = Record<string, Record<string, Record<(typeof EXCHANGE_KEY_FIELDS)[number], string>>>;

/**
 * Fresh random test values for every live generation of every API key secret
 * in `config` (what the program requires): not keys of any exchange, never
 * printed, different on every run.
 */
export function testExchangeKeys(config: Record<string, unknown>): ExchangeKeys {
    const keys: ExchangeKeys = {};
    for (const s of parseConfig(rawOf(config), "bench").secrets.values()) {
        if (s.kind !== "apiKey") continue;
        keys[s.name] = {};
        for (const g of specView(s).live) {
            keys[s.name][`g${g}`] = {
                apiKey: `bench-test-${randomBytes(12).toString("hex")}`,
                apiSecret: `bench-test-${randomBytes(24).toString("hex")}`,
            };
        }
    }
    return keys;
}

/** Every test value, for the leak search. */
export function exchangeKeyValues(keys: ExchangeKeys): string[] {
    return Object.values(keys).flatMap((gens) => Object.values(gens).flatMap((f) => Object.values(f)));
}

/** The program's config under mocks: `raw` plus the exchange keys (set as secret config by bench/mockRun.ts). */
export function benchConfigOf(config: Record<string, unknown>, keys: ExchangeKeys): BenchConfig {
    return Object.keys(keys).length > 0 ? { ...rawOf(config), exchangeKeys: keys } : rawOf(config);
}

/**
 * Sets the keys as secrets in the throw-away stack: one `pulumi config
 * set-all --path --secret ...`, encrypted with that stack's passphrase.
 * A failure's message is scrubbed of the values (the CLI error quotes its
 * command line).
 */
async function setExchangeKeys(project: E2EProject, keys: ExchangeKeys): Promise<void> {
    const entries = Object.entries(keys).flatMap(([secret, gens]) =>
        Object.entries(gens).flatMap(([gen, fields]) =>
            Object.entries(fields).map(
                ([f, value]) => [`titan-secrets:exchangeKeys.${secret}.${gen}.${f}`, { value, secret: true }] as const,
            ),
        ),
    );
    if (entries.length === 0) return;
    try {
        await project.stack.setAllConfig(Object.fromEntries(entries), true);
    } catch (e) {
        throw new Error(`setting the bench's exchange test keys in ${project.dir} failed: ${scrub(String(e), exchangeKeyValues(keys))}`);
    }
}

function scrub(text: string, values: string[]): string {
    return values.reduce((t, v) => t.split(v).join("[test key]"), text);
}

/**
 * index.ts of the baseline: the same custom resources, trivial inputs, no
 * components, no config read (as bench/mockRun.ts `declareBaseline`).
 */
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
for (let i = 0; i < ${counts.prometheusRule}; i++) {
    const name = \`rule-\${i}\`;
    new k8s.apiextensions.CustomResource(name, { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name, namespace: "titan" }, spec: { groups: [] } }, { provider });
}
`;
}

export interface PreviewTimer {
    /** One `pulumi preview`; its wall time in ms and the change summary. */
    preview(): Promise<{ ms: number; changes: Record<string, number> }>;
    destroy(): void;
}

/**
 * A fresh project copy on its own backend, with `keys` set as secret config
 * (in both programs' stacks, so both start from the same config);
 * `baseline` swaps index.ts for the baseline program.
 */
export async function previewTimer(config: Record<string, unknown>, keys: ExchangeKeys, baseline?: ResourceCounts): Promise<PreviewTimer> {
    const project = await E2EProject.create("bench", config);
    const values = exchangeKeyValues(keys);
    try {
        await setExchangeKeys(project, keys);
        if (baseline) writeFileSync(join(project.dir, "index.ts"), baselineProgram(baseline));
    } catch (e) {
        project.destroy();
        throw e;
    }
    return {
        async preview() {
            const start = performance.now();
            const step = await project.preview();
            const ms = performance.now() - start;
            if (step.error)
                throw new Error(
                    `pulumi preview failed in ${project.dir}: ${scrub(`${step.error.message}\n${step.output.slice(-2000)}`, values)}`,
                );
            // Outside the clock: no test key in anything the preview printed or reported.
            const seen = `${step.output}\n${JSON.stringify(step.events)}`;
            if (values.some((v) => seen.includes(v)))
                throw new Error(`pulumi preview in ${project.dir} printed an exchange test key (not shown here)`);
            return { ms, changes: step.changes };
        },
        destroy: () => project.destroy(),
    };
}
