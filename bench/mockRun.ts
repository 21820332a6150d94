// Figure 3's runner: the real program (components/program.ts), or one of two
// baselines, under Pulumi's mocks in this process:
// - runBaseline: the same custom resources with trivial inputs and no
//   components (what any program declaring them must at least pay);
// - replayGraph: titan's own resource graph, recorded from one of its runs
//   (the same components, parents, provider, input values and dependsOn),
//   declared as plain values with none of the program's logic (config,
//   plan, Outputs): what is left of titan's time over it is its own code. The approach of
// test/support/mocks.ts `runProgram` (setMocks, setAllConfig, a
// transformation on the root component to find every resource, wait for
// every registration), without vitest and without recording inputs, so the
// time is the program's and the SDK's, not the recorder's.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { setStackConfig } from "../harness/mockConfig";
import * as random from "@pulumi/random";
import { titanSecretsProgram } from "../components/program";
import { Ledger, RawConfig } from "../model";

export const TYPES = {
    randomPassword: "random:index/randomPassword:RandomPassword",
    secret: "kubernetes:core/v1:Secret",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
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
    /** Workloads of every kind (Deployment, StatefulSet, DaemonSet); the baseline declares each as a Deployment. */
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

/** One resource of a recorded graph; parent, provider and dependsOn are indexes of earlier nodes. */
export interface GraphNode {
    type: string;
    name: string;
    custom: boolean;
    parent?: number;
    provider?: number;
    dependsOn: number[];
    /** The inputs as the mock monitor received them (resolved). */
    inputs: Record<string, unknown>;
}

const FAKE_KEY = "0".repeat(64);
/** Shaped like a bcrypt hash (the NATS config renders RandomPassword's bcryptHash); never checked. */
const FAKE_BCRYPT = `$2a$04$${"0".repeat(53)}`;

const keyOf = (type: string, name: string) => `${type}::${name}`;

async function withMocks(
    previous: Ledger,
    raw: BenchConfig,
    body: (track: (r: pulumi.Resource) => void) => Promise<void>,
    inputsOf?: Map<string, Record<string, unknown>>,
): Promise<MockRun> {
    const registered: Record<string, number> = {};
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                registered[args.type] = (registered[args.type] ?? 0) + 1;
                if (inputsOf) {
                    const key = keyOf(args.type, args.name);
                    if (inputsOf.has(key)) throw new Error(`cannot record the graph: two resources ${key}`);
                    inputsOf.set(key, args.inputs as Record<string, unknown>);
                }
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
    // tsx turns on Node's source-mapped stack traces, and the SDK takes a
    // stack for every promise it makes (runtime/debuggable.js) and every
    // resource (Resource.callsites): formatting them through source maps was
    // about a third of both programs' time, a cost of the runner (the engine's
    // language host maps stacks its own way). Off while timing; the ratio
    // between the programs barely moves (README, Benchmarks).
    const sourceMaps = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(false);
    const start = performance.now();
    try {
        await body((r) => void created.push(r));
        await Promise.all(created.map((r) => new Promise<void>((resolve) => r.urn.apply(() => resolve()))));
        await waitForRpcs();
    } finally {
        process.setSourceMapsEnabled(sourceMaps);
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
 * One run of the program that records its resource graph (everything under
 * its root component, in registration order; the ledger's StackReference is
 * outside it). Only for a program that renders: a dependsOn on anything but
 * a resource (an Output that waits for a roll-out) cannot be replayed.
 */
export async function recordTitanGraph(raw: BenchConfig, previous: Ledger, now: Date): Promise<{ run: MockRun; graph: GraphNode[] }> {
    const nodes: (Omit<GraphNode, "inputs"> & { key: string })[] = [];
    const index = new Map<pulumi.Resource, number>();
    const inputsOf = new Map<string, Record<string, unknown>>();
    const indexOf = (r: unknown, what: string): number => {
        const i = r instanceof pulumi.Resource ? index.get(r) : undefined;
        if (i === undefined) throw new Error(`cannot record the graph: a ${what} that is not an earlier resource of the program`);
        return i;
    };
    const run = await withMocks(
        previous,
        raw,
        async (track) => {
            const record: pulumi.ResourceTransformation = (args) => {
                track(args.resource);
                const deps = args.opts.dependsOn;
                const list: unknown[] = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps];
                index.set(args.resource, nodes.length);
                nodes.push({
                    key: keyOf(args.type, args.name),
                    type: args.type,
                    name: args.name,
                    custom: args.resource instanceof pulumi.CustomResource,
                    parent: args.opts.parent ? index.get(args.opts.parent) : undefined,
                    provider: args.opts.provider ? indexOf(args.opts.provider, "provider") : undefined,
                    dependsOn: list.map((d) => indexOf(d, "dependsOn entry")),
                });
                return undefined;
            };
            await titanSecretsProgram({ now: () => now, componentOptions: { transformations: [record] } });
        },
        inputsOf,
    );
    return { run, graph: nodes.map(({ key, ...n }) => ({ ...n, inputs: n.custom ? (inputsOf.get(key) ?? {}) : {} })) };
}

/** A component of a recorded type, with no outputs (as the program's components register theirs). */
class ReplayedComponent extends pulumi.ComponentResource {
    constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        this.registerOutputs({});
    }
}

/** The second baseline: `graph` declared as it was recorded, plain values, no program. */
export function replayGraph(graph: readonly GraphNode[]): Promise<MockRun> {
    return withMocks({}, {}, async (track) => {
        const made: pulumi.Resource[] = [];
        for (const n of graph) {
            const parent = n.parent === undefined ? undefined : made[n.parent];
            const opts: pulumi.CustomResourceOptions = {
                parent,
                provider: n.provider === undefined ? undefined : (made[n.provider] as pulumi.ProviderResource),
                dependsOn: n.dependsOn.length > 0 ? n.dependsOn.map((i) => made[i]) : undefined,
            };
            const inputs = n.inputs as never;
            let r: pulumi.Resource;
            if (!n.custom) {
                r = new ReplayedComponent(n.type, n.name, { parent, dependsOn: opts.dependsOn });
            } else if (n.type === TYPES.provider) r = new k8s.Provider(n.name, inputs, opts);
            else if (n.type === TYPES.randomPassword) r = new random.RandomPassword(n.name, inputs, opts);
            else if (n.type === TYPES.secret) r = new k8s.core.v1.Secret(n.name, inputs, opts);
            else if (n.type === TYPES.deployment) r = new k8s.apps.v1.Deployment(n.name, inputs, opts);
            else if (n.type === TYPES.prometheusRule) r = new k8s.apiextensions.CustomResource(n.name, inputs, opts);
            else throw new Error(`replayGraph: no replay for ${n.type}`);
            made.push(r);
            track(r);
        }
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
        track(
            new k8s.core.v1.Secret(
                `secret-${i}`,
                { metadata: { name: `secret-${i}`, namespace: "titan" }, stringData: { KEY: "value" } },
                { provider },
            ),
        );
    }
    for (let i = 0; i < counts.deployment; i++) {
        const app = `app-${i}`;
        track(
            new k8s.apps.v1.Deployment(
                app,
                {
                    metadata: { name: app, namespace: "titan" },
                    spec: {
                        selector: { matchLabels: { app } },
                        template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: "registry.example/app:1" }] } },
                    },
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
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name, namespace: "titan" },
                    spec: { groups: [] },
                },
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
    // A StatefulSet or DaemonSet costs the engine what a Deployment does: the
    // baseline declares a Deployment for each workload, whatever its kind.
    const workloads = [TYPES.deployment, TYPES.statefulSet, TYPES.daemonSet];
    const known = new Set<string>([TYPES.randomPassword, TYPES.secret, ...workloads, TYPES.prometheusRule]);
    const other = Object.keys(run.registered).filter((t) => !known.has(t) && !NOT_COUNTED.has(t) && !t.startsWith("titan-secrets:"));
    if (other.length > 0) throw new Error(`the baseline has no trivial form of ${other.join(", ")}`);
    return {
        randomPassword: run.registered[TYPES.randomPassword] ?? 0,
        secret: run.registered[TYPES.secret] ?? 0,
        deployment: workloads.reduce((n, t) => n + (run.registered[t] ?? 0), 0),
        prometheusRule: run.registered[TYPES.prometheusRule] ?? 0,
    };
}
