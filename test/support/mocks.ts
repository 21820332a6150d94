// Runs the real program (components/program.ts) under Pulumi's mocks and
// records what it declares: every resource with its inputs, provider and
// dependsOn (captured by a transformation on the root component, since the
// mock monitor never sees dependsOn), the stack outputs, and every log line.

import { createHash } from "node:crypto";
import { hashSync } from "bcryptjs";
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { titanSecretsProgram } from "../../components/program";
import { HmacKeyRing } from "../../components/hmacKeyRing";
import { Ledger, Plan, RawConfig } from "../../model";
import { setStackConfig } from "../../harness/mockConfig";

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Provider reference (`urn::id`) for custom resources. */
    provider?: string;
    /** Logical names of the resources in `dependsOn`. */
    dependsOn: string[];
    /** The `import` option: the ID of an existing resource to adopt. */
    importId?: string;
}

export interface ProgramRun {
    resources: RecordedResource[];
    /** The stack outputs, resolved. */
    outputs?: { ledger: Ledger };
    plan?: Plan;
    error?: Error;
    logs: string[];
    keyRings: HmacKeyRing[];
}

/** The value the random mock "generates" for a key resource: a function of its name only. */
export function mockKeyHex(resourceName: string): string {
    return createHash("sha256").update(`titan-test-key:${resourceName}`).digest("hex");
}

/** Every key value any run has generated, for the leak search. */
export const generatedValues = new Set<string>();

function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export interface RunOptions {
    /** Kubernetes Jobs report success (as the provider's await would see it). */
    jobsSucceed?: boolean;
    /** Stack config keys stored as secrets (default: exchangeKeys). */
    secretKeys?: string[];
    /**
     * Other stacks' outputs as a StackReference reads them, by stack name
     * (`keys`), with the names of the secret ones. A stack not named here
     * (this one included) has the outputs `{ ledger: previous }`.
     */
    stacks?: Record<string, { outputs: Record<string, unknown>; secretOutputNames?: string[] }>;
}

export async function runProgram(
    raw: RawConfig & { exchangeKeys?: unknown },
    previous: Ledger,
    now: Date,
    preview = false,
    options: RunOptions = {},
): Promise<ProgramRun> {
    const recorded = new Map<string, RecordedResource>();
    const names = new WeakMap<pulumi.Resource, string>();
    const created: pulumi.Resource[] = [];
    const keyRings: HmacKeyRing[] = [];

    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "pulumi:pulumi:StackReference") {
                    const other = options.stacks?.[String(args.inputs.name).split("/").pop()!];
                    state.outputs = other?.outputs ?? { ledger: previous };
                    state.secretOutputNames = other?.secretOutputNames ?? [];
                }
                if (args.type === "kubernetes:batch/v1:Job") state.status = options.jobsSucceed ? { succeeded: 1 } : {};
                if (args.type === T.randomPassword) {
                    state.result = mockKeyHex(args.name);
                    // A real (cheap) bcrypt hash, so rendered NATS configs work on a real server.
                    state.bcryptHash = hashSync(state.result as string, 4);
                    generatedValues.add(state.result as string);
                }
                const entry = recorded.get(`${args.type}::${args.name}`);
                const importId = args.id || undefined;
                if (entry) {
                    Object.assign(entry, { inputs: args.inputs, provider: args.provider, importId });
                } else {
                    recorded.set(`${args.type}::${args.name}`, {
                        type: args.type,
                        name: args.name,
                        inputs: args.inputs,
                        provider: args.provider,
                        dependsOn: [],
                        importId,
                    });
                }
                return { id: `${args.name}-id`, state };
            },
            call: () => ({}),
        },
        "titan-secrets",
        "dev",
        preview,
        "organization",
    );
    setStackConfig(raw, options.secretKeys ?? ["exchangeKeys"]);

    const logs: string[] = [];
    const capture = (...args: unknown[]) => void logs.push(args.map(String).join(" "));
    const spies = [
        vi.spyOn(console, "log").mockImplementation(capture),
        vi.spyOn(console, "error").mockImplementation(capture),
        vi.spyOn(console, "warn").mockImplementation(capture),
    ];

    const record: pulumi.ResourceTransformation = (args) => {
        names.set(args.resource, args.name);
        created.push(args.resource);
        if (args.resource instanceof HmacKeyRing) keyRings.push(args.resource);
        const deps = (args.opts.dependsOn ?? []) as pulumi.Resource[];
        const key = `${args.type}::${args.name}`;
        const entry = recorded.get(key) ?? { type: args.type, name: args.name, inputs: {}, dependsOn: [] };
        entry.dependsOn = (Array.isArray(deps) ? deps : [deps]).map((d) => names.get(d) ?? "<unknown>");
        recorded.set(key, entry);
        return undefined;
    };

    const run: ProgramRun = { resources: [], logs, keyRings };
    try {
        const result = await titanSecretsProgram({ now: () => now, componentOptions: { transformations: [record] } });
        run.outputs = { ledger: await promiseOf(result.outputs.ledger) };
        run.plan = result.plan;
        await Promise.all(created.map((r) => promiseOf(r.urn)));
        // Let the mock monitor finish every registration it started.
        await new Promise((r) => setTimeout(r, 20));
    } catch (e) {
        run.error = e as Error;
    } finally {
        spies.forEach((s) => s.mockRestore());
    }
    run.resources = [...recorded.values()].filter((r) => r.type !== "pulumi:pulumi:Stack");
    return run;
}

export function byType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function one(run: ProgramRun, type: string, name: string): RecordedResource {
    const r = run.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}; have: ${run.resources.map((x) => `${x.type}::${x.name}`).join(", ")}`);
    return r;
}

/** The signature with which the SDK marks a secret value on the wire to the engine. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isWireSecret(value: unknown): boolean {
    return (
        typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270"
    );
}

/** The value inside a wire secret (tests only: to compare contents). */
export function reveal<V>(value: V): V {
    return isWireSecret(value) ? ((value as Record<string, unknown>).value as V) : value;
}

export const T = {
    randomPassword: "random:index/randomPassword:RandomPassword",
    secret: "kubernetes:core/v1:Secret",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    deploymentPatch: "kubernetes:apps/v1:DeploymentPatch",
    statefulSetPatch: "kubernetes:apps/v1:StatefulSetPatch",
    provider: "pulumi:providers:kubernetes",
};
