// The wait every ordering edge relies on: a workload counts as rolled out
// only when the API server itself says so by kubectl's rules
// (model/rolloutStatus.ts), read with a fresh GET, never from a watch
// cache, and only once the controller has observed the generation our own
// apply produced. The provider's await is switched off on the workloads the
// program applies (`pulumi.com/skipAwait`), so there is one wait and one
// message when it fails.

import type { KubeConfig, KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import { KubernetesSpec, PodObject, RolloutState, WorkloadObject, rolloutState } from "../model";
import { runError } from "./runError";

export interface RolloutTarget {
    apiVersion: string;
    kind: string;
    namespace: string;
    name: string;
    /** The generation our apply produced (the resource's output); the wait needs at least this one observed. */
    generation: number;
}

export interface WaitOptions {
    timeoutSeconds: number;
    /** What the failure message says this workload was rolling for (e.g. "titan-hmac (verifier: g2+g1)"). */
    rollingFor: string;
    /** Poll interval; 500 ms by default. */
    intervalMs?: number;
}

/** Where the program's waits read the cluster: the same kubeconfig and context as the provider. */
export function kubeConfigFor(spec: KubernetesSpec): KubeConfig {
    // Loaded on first use: a rendering stack never needs the client.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KubeConfig } = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
    const kc = new KubeConfig();
    if (spec.kubeconfig === undefined) kc.loadFromDefault();
    else if (spec.kubeconfig.trimStart().startsWith("apiVersion") || spec.kubeconfig.includes("\n")) kc.loadFromString(spec.kubeconfig);
    else kc.loadFromFile(spec.kubeconfig);
    if (spec.context !== undefined) kc.setCurrentContext(spec.context);
    return kc;
}

/**
 * Polls the workload until its roll-out is done. Throws a RunError, naming the
 * workload, what it was rolling for and the last progress, when the
 * controller gives up or `timeoutSeconds` pass.
 */
export async function waitForRollout(kc: KubeConfig, target: RolloutTarget, options: WaitOptions): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KubernetesObjectApi } = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
    const api: KubernetesObjectApi = KubernetesObjectApi.makeApiClient(kc);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    const interval = options.intervalMs ?? 500;
    let last: RolloutState = { state: "waiting", progress: "not read yet" };
    for (;;) {
        try {
            const obj = (await api.read<KubernetesObject>({
                apiVersion: target.apiVersion,
                kind: target.kind,
                metadata: { name: target.name, namespace: target.namespace },
            })) as WorkloadObject;
            last = rolloutState(obj, target.generation);
            if (last.state === "done") last = rolloutState(obj, target.generation, await podsOf(api, target.namespace, obj));
        } catch (e) {
            last = { state: "waiting", progress: `the API server did not answer (${(e as Error).message.split("\n")[0]})` };
        }
        if (last.state === "done") return;
        if (last.state === "failed") throw runError(failure(target, options, last.reason));
        if (Date.now() >= deadline)
            throw runError(failure(target, options, `it did not finish within ${options.timeoutSeconds}s: ${last.progress}`));
        await new Promise((resolve) => setTimeout(resolve, interval));
    }
}

/** The pods the workload's selector matches now (undefined for a selector of expressions only: not checked). */
async function podsOf(api: KubernetesObjectApi, namespace: string, obj: WorkloadObject): Promise<PodObject[] | undefined> {
    const labels = Object.entries(obj.spec?.selector?.matchLabels ?? {});
    if (labels.length === 0) return undefined;
    const selector = labels.map(([k, v]) => `${k}=${v}`).join(",");
    const list = await api.list<KubernetesObject>("v1", "Pod", namespace, undefined, undefined, undefined, undefined, selector);
    return list.items as PodObject[];
}

function failure(t: RolloutTarget, o: WaitOptions, why: string): string {
    const ref = `${t.kind.toLowerCase()}/${t.name}`;
    return (
        `The roll-out of ${t.name} (${t.kind} ${t.namespace}/${t.name}, rolling for ${o.rollingFor}) did not complete: ${why}. ` +
        `Nothing that waits for it has started, and the ledger keeps the last applied stage. ` +
        `See why with: kubectl -n ${t.namespace} rollout status ${ref}; kubectl -n ${t.namespace} get pods -l app=${t.name}. ` +
        `Once it is healthy, run pulumi up again: it continues from here.`
    );
}
