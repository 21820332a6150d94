// When is a workload's roll-out finished? The rules of `kubectl rollout
// status`, read from one object as the API server returns it. Pure: the
// wait in components/ polls the server and asks this.
//
// Why not the kubernetes provider's own await: it decides from watch events
// and the revision it last recorded, and has been seen to report a
// Deployment "updated" while the controller had not yet observed the new
// pod template (metadata.generation 2, status.observedGeneration 1). Here the
// first rule is that the controller has observed at least the generation our
// own apply produced; only then do replica counts mean anything.

/** The fields of a Deployment, StatefulSet or DaemonSet that decide its roll-out. */
export interface WorkloadObject {
    kind: string;
    metadata?: { name?: string; generation?: number };
    spec?: {
        replicas?: number;
        selector?: { matchLabels?: Record<string, string> };
        updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
    };
    status?: {
        observedGeneration?: number;
        replicas?: number;
        updatedReplicas?: number;
        readyReplicas?: number;
        availableReplicas?: number;
        currentRevision?: string;
        updateRevision?: string;
        desiredNumberScheduled?: number;
        updatedNumberScheduled?: number;
        numberAvailable?: number;
        conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    };
}

/** A pod of the workload, as far as the roll-out cares. */
export interface PodObject {
    metadata?: { name?: string; deletionTimestamp?: unknown };
}

export type RolloutState =
    | { state: "done" }
    /** Still rolling; `progress` says what it waits for, in kubectl's words. */
    | { state: "waiting"; progress: string }
    /** It will not finish by waiting (the controller gave up). */
    | { state: "failed"; reason: string };

/**
 * The roll-out state of `obj`. `minGeneration` is the generation our apply
 * produced: an object whose controller has observed less is still waiting,
 * whatever its replica counts say. `pods` are the pods its selector matches
 * now: kubectl is satisfied once old pods are terminating, but a
 * terminating pod still runs (it drains queues, finishes requests) with the
 * old credentials, so the roll-out is done only when they are gone.
 */
export function rolloutState(obj: WorkloadObject, minGeneration = 0, pods?: PodObject[]): RolloutState {
    const state = controllerState(obj, minGeneration);
    if (state.state !== "done" || pods === undefined) return state;
    const terminating = pods.filter((p) => p.metadata?.deletionTimestamp != null).length;
    if (terminating > 0) return { state: "waiting", progress: `${terminating} old pod(s) are still terminating` };
    const want = obj.kind === "DaemonSet" ? (obj.status?.desiredNumberScheduled ?? 0) : (obj.spec?.replicas ?? 1);
    if (pods.length > want) return { state: "waiting", progress: `${pods.length - want} old pod(s) are still running` };
    return state;
}

function controllerState(obj: WorkloadObject, minGeneration: number): RolloutState {
    const generation = Math.max(obj.metadata?.generation ?? 0, minGeneration);
    const s = obj.status ?? {};
    const observed = s.observedGeneration ?? 0;
    if (observed < generation || observed === 0) {
        return {
            state: "waiting",
            progress: `the ${obj.kind.toLowerCase()} controller has not observed generation ${generation} yet (observed ${observed})`,
        };
    }
    switch (obj.kind) {
        case "Deployment":
            return deploymentState(obj);
        case "StatefulSet":
            return statefulSetState(obj);
        case "DaemonSet":
            return daemonSetState(obj);
        default:
            return { state: "failed", reason: `roll-out status is not defined for kind ${obj.kind}` };
    }
}

function deploymentState(obj: WorkloadObject): RolloutState {
    const s = obj.status ?? {};
    const want = obj.spec?.replicas ?? 1;
    const progressing = s.conditions?.find((c) => c.type === "Progressing");
    if (progressing?.reason === "ProgressDeadlineExceeded") {
        return { state: "failed", reason: `it exceeded its progress deadline (${progressing.message ?? "no message"})` };
    }
    const updated = s.updatedReplicas ?? 0;
    if (updated < want) return { state: "waiting", progress: `${updated} of ${want} new replicas have been updated` };
    const total = s.replicas ?? 0;
    if (total > updated) return { state: "waiting", progress: `${total - updated} old replica(s) are pending termination` };
    const available = s.availableReplicas ?? 0;
    if (available < updated) return { state: "waiting", progress: `${available} of ${updated} updated replicas are available` };
    return { state: "done" };
}

function statefulSetState(obj: WorkloadObject): RolloutState {
    const s = obj.status ?? {};
    const strategy = obj.spec?.updateStrategy?.type ?? "RollingUpdate";
    if (strategy !== "RollingUpdate")
        return { state: "failed", reason: `its updateStrategy is ${strategy}: only RollingUpdate rolls pods by itself` };
    const want = obj.spec?.replicas ?? 1;
    const ready = s.readyReplicas ?? 0;
    if (ready < want) return { state: "waiting", progress: `${ready} of ${want} pods are ready` };
    const partition = obj.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (partition > 0) {
        const updated = s.updatedReplicas ?? 0;
        return updated < want - partition
            ? { state: "waiting", progress: `${updated} of ${want - partition} pods above the partition are updated` }
            : { state: "done" };
    }
    if (s.updateRevision !== s.currentRevision) {
        return { state: "waiting", progress: `${s.updatedReplicas ?? 0} of ${want} pods are at revision ${s.updateRevision ?? "?"}` };
    }
    return { state: "done" };
}

function daemonSetState(obj: WorkloadObject): RolloutState {
    const s = obj.status ?? {};
    const strategy = obj.spec?.updateStrategy?.type ?? "RollingUpdate";
    if (strategy !== "RollingUpdate")
        return { state: "failed", reason: `its updateStrategy is ${strategy}: only RollingUpdate rolls pods by itself` };
    const want = s.desiredNumberScheduled ?? 0;
    const updated = s.updatedNumberScheduled ?? 0;
    if (updated < want) return { state: "waiting", progress: `${updated} of ${want} updated pods are scheduled` };
    const available = s.numberAvailable ?? 0;
    if (available < want) return { state: "waiting", progress: `${available} of ${want} updated pods are available` };
    return { state: "done" };
}
