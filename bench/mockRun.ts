// Figure 3's runner: the real program (components/program.ts), or a baseline
// that declares the same custom resources with trivial inputs and no
// components, under Pulumi's mocks in this process. The approach of
// test/support/mocks.ts `runProgram` (setMocks, setAllConfig, a
// transformation on the root component to find every resource, wait for
// every registration), without vitest and without recording inputs, so the
// time is the program's and the SDK's, not the recorder's.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { setStackConfig } from "../test/support/mockConfig";
import * as random from "@pulumi/random";
import { titanSecretsProgram } from "../components/program";
import { Ledger, RawConfig } from "../components/model";

export const TYPES = {
    randomPassword: "random:index/randomPassword:RandomPassword",
    secret: "kubernetes:core/v1:Secret",
    deployment: "kubernetes:apps/v1:Deployment",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    provider: "pulumi:providers:kubernetes",
    stackReference: "pulumi:pulumi:StackReference",
    stack: "pulumi:pulumi:Stack",
} as const;

/** The program's config, plus the exchange keys a real stack holds as secure config. */
export type BenchConfig = RawConfig & { exchangeKeys?: unknown };

/** Custom resources both programs declare, by type. */
export interface ResourceCounts {
    randomPassword: number;
    secret: number;
    deployment: number;
    /** monitoring.prometheusRule: one PrometheusRule (a CustomResource). */
    prometheusRule: number;
}

/** Custom resources of a count, with the one Kubernetes provider both programs declare. */
export function customResources(c: ResourceCounts): number {
    return c.randomPassword + c.secret + c.deployment + c.prometheusRule + 1;
}

export interface MockRun {
    ms: number;
    /** Registrations the mock monitor saw, by type. */
    registered: Record<string, number>;
}

const FAKE_KEY = "0".repeat(64);
/** Shaped like a bcrypt hash (the NATS config renders RandomPassword's bcryptHash); never checked. */
const FAKE_BCRYPT = `$2a$04$${"0".repeat(53)}`;

async function withMocks(previous: Ledger, raw: BenchConfig, body: (track: (r: pulumi.Resource) => void) => Promise<void>): Promise<MockRun> {
    const registered: Record<string, number> = {};
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                registered[args.type] = (registered[args.type] ?? 0) + 1;
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === TYPES.stackReference) {
                    state.outputs = { ledger: previous };
                    state.secretOutputNames = [];
                }
                if (args.type === TYPES.randomPassword) Object.assign(state, { result: FAKE_KEY, bcryptHash: FAKE_BCRYPT });
                return { id: `${args.name}-id`, state };
            },
            call: () => ({}),
        },
        "titan-secrets",
        "bench",
        false,
        "organization",
    );
    // Exchange keys are secure config on a real stack: secret here too, or the program refuses them.
    setStackConfig(raw, raw.exchangeKeys === undefined ? [] : ["exchangeKeys"]);
    const created: pulumi.Resource[] = [];
    // The program logs its plan (info and warnings) through pulumi.log, which
    // under mocks writes to the console: keep the bench's output readable.
    const saved = { log: console.log, error: console.error, warn: console.warn };
    console.log = console.error = console.warn = () => undefined;
    const start = performance.now();
    try {
        await body((r) => void created.push(r));
        await Promise.all(created.map((r) => new Promise<void>((resolve) => r.urn.apply(() => resolve()))));
        await waitForRpcs();
    } finally {
        Object.assign(console, saved);
    }
    return { ms: performance.now() - start, registered };
}

/** The SDK's own "every RPC answered" promise (internal, so looked up untyped); a tick when absent. */
async function waitForRpcs(): Promise<void> {
    const settings = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    if (typeof settings.waitForRPCs === "function") await settings.waitForRPCs();
    else await new Promise((r) => setImmediate(r));
}

/** The titan-secrets program on `raw`, with `previous` as the last ledger. */
export function runTitan(raw: BenchConfig, previous: Ledger, now: Date): Promise<MockRun> {
    return withMocks(previous, raw, async (track) => {
        const record: pulumi.ResourceTransformation = (args) => {
            track(args.resource);
            return undefined;
        };
        await titanSecretsProgram({ now: () => now, componentOptions: { transformations: [record] } });
    });
}

/**
 * The baseline: the same custom resources with trivial inputs, through one
 * explicit Kubernetes provider, no components, no dependsOn, no config.
 */
export function runBaseline(counts: ResourceCounts): Promise<MockRun> {
    return withMocks({}, {}, async (track) => {
        declareBaseline(counts, track);
    });
}

export function declareBaseline(counts: ResourceCounts, track: (r: pulumi.Resource) => void = () => undefined): void {
    const provider = new k8s.Provider("render", { renderYamlToDirectory: "rendered" });
    track(provider);
    for (let i = 0; i < counts.randomPassword; i++) {
        track(new random.RandomPassword(`key-${i}`, { length: 64, special: false }));
    }
    for (let i = 0; i < counts.secret; i++) {
        track(new k8s.core.v1.Secret(`secret-${i}`, { metadata: { name: `secret-${i}`, namespace: "titan" }, stringData: { KEY: "value" } }, { provider }));
    }
    for (let i = 0; i < counts.deployment; i++) {
        const app = `app-${i}`;
        track(
            new k8s.apps.v1.Deployment(
                app,
                {
                    metadata: { name: app, namespace: "titan" },
                    spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: "registry.example/app:1" }] } } },
                },
                { provider },
            ),
        );
    }
    for (let i = 0; i < counts.prometheusRule; i++) {
        const name = `rule-${i}`;
        track(
            new k8s.apiextensions.CustomResource(
                name,
                { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name, namespace: "titan" }, spec: { groups: [] } },
                { provider },
            ),
        );
    }
}

/** Registered types that are not custom resources the baseline has to match. */
const NOT_COUNTED = new Set<string>([TYPES.provider, TYPES.stackReference, TYPES.stack]);

/**
 * The custom resources a run registered, in the baseline's terms. Throws on a
 * custom type the baseline cannot declare (a component type has a
 * `titan-secrets:` prefix and is not counted).
 */
export function countsOf(run: MockRun): ResourceCounts {
    const known = new Set<string>([TYPES.randomPassword, TYPES.secret, TYPES.deployment, TYPES.prometheusRule]);
    const other = Object.keys(run.registered).filter((t) => !known.has(t) && !NOT_COUNTED.has(t) && !t.startsWith("titan-secrets:"));
    if (other.length > 0) throw new Error(`the baseline has no trivial form of ${other.join(", ")}`);
    return {
        randomPassword: run.registered[TYPES.randomPassword] ?? 0,
        secret: run.registered[TYPES.secret] ?? 0,
        deployment: run.registered[TYPES.deployment] ?? 0,
        prometheusRule: run.registered[TYPES.prometheusRule] ?? 0,
    };
}
