// Reading the server's own record (ServerLog) for the claims the live
// suites make: which ReplicaSets were created and when they became
// available, and whether at any moment a presenter pod held a key that some
// verifier pod did not accept. Pure functions over events sorted by
// resourceVersion.

import type { ServerEvent } from "./serverLog";

/** What one Secret object holds, from its labels and annotations (never its data). */
export interface SecretObjectInfo {
    secret: string;
    role: "verifier" | "presenter";
    generations: number[];
}

export function secretObjects(events: ServerEvent[]): Map<string, SecretObjectInfo> {
    const out = new Map<string, SecretObjectInfo>();
    for (const e of events) {
        if (e.kind !== "Secret") continue;
        const secret = e.obj.labels["titan-secrets.io/secret"];
        const role = e.obj.labels["titan-secrets.io/role"] as SecretObjectInfo["role"];
        const gens = e.obj.annotations["titan-secrets.io/generations"];
        if (secret && role && gens) out.set(e.obj.name, { secret, role, generations: gens.split(",").map(Number) });
    }
    return out;
}

export interface NewReplicaSet {
    deployment: string;
    name: string;
    /** resourceVersion at creation. */
    rv: number;
    createdAt: string;
}

/** ReplicaSets created (not merely listed) after `afterRv`, in creation order. */
export function newReplicaSets(events: ServerEvent[], afterRv: number): NewReplicaSet[] {
    return events
        .filter((e) => e.kind === "ReplicaSet" && e.type === "ADDED" && e.rv > afterRv)
        .map((e) => ({ deployment: e.obj.owner ?? "?", name: e.obj.name, rv: e.rv, createdAt: e.obj.createdAt ?? "" }));
}

/** The resourceVersion at which a ReplicaSet first had `replicas` available pods and no others, or undefined. */
export function availableRv(events: ServerEvent[], rs: string, replicas: number): number | undefined {
    for (const e of events) {
        if (e.kind !== "ReplicaSet" || e.obj.name !== rs || e.type === "DELETED") continue;
        const s = e.obj.status as { replicas?: number; availableReplicas?: number };
        if (e.obj.replicas === replicas && s.replicas === replicas && (s.availableReplicas ?? 0) >= replicas) return e.rv;
    }
    return undefined;
}

/**
 * When a ReplicaSet had `replicas` Ready pods, by the API server's own clock:
 * the latest Ready lastTransitionTime among its first `replicas` pods to be
 * Ready. Comparable across two API servers on one machine (one clock), at
 * the server's one-second resolution.
 */
export function availableAt(events: ServerEvent[], rs: string, replicas: number): string | undefined {
    const readyAt = new Map<string, string>();
    for (const e of events) {
        if (e.kind !== "Pod" || e.obj.owner !== rs || !e.obj.readyAt || readyAt.has(e.obj.name)) continue;
        readyAt.set(e.obj.name, e.obj.readyAt);
    }
    const times = [...readyAt.values()].sort();
    return times.length >= replicas ? times[replicas - 1] : undefined;
}

/** The resourceVersion at which an object was deleted, or undefined. */
export function deletedRv(events: ServerEvent[], kind: ServerEvent["kind"], name: string): number | undefined {
    return events.find((e) => e.kind === kind && e.obj.name === name && e.type === "DELETED")?.rv;
}

export interface Violation {
    rv: number;
    secret: string;
    presenterPod: string;
    presents: number;
    verifierPod: string;
    accepts: number[];
}

/**
 * Replays the pods in resourceVersion order and, after every event, checks
 * the safety rule: every generation a live presenter pod may present is
 * accepted by every live verifier pod of the same secret. A pod is live
 * from its creation until the server deletes it (a terminating pod may still
 * run). What a pod holds is read from the Secret objects it references.
 * Each (presenter pod, verifier pod, secret) is reported once, at the first
 * moment it broke the rule.
 */
export function safetyViolations(events: ServerEvent[]): Violation[] {
    const objects = secretObjects(events);
    const live = new Map<string, Map<string, SecretObjectInfo>>(); // pod -> secret -> what it holds
    const out: Violation[] = [];
    const reported = new Set<string>();
    for (const e of events) {
        if (e.kind !== "Pod") continue;
        if (e.type === "DELETED") live.delete(e.obj.name);
        else {
            const held = new Map<string, SecretObjectInfo>();
            for (const ref of e.obj.secretRefs ?? []) {
                const info = objects.get(ref);
                if (info) held.set(info.secret, info);
            }
            live.set(e.obj.name, held);
        }
        for (const [presenterPod, pHeld] of live) {
            for (const p of pHeld.values()) {
                if (p.role !== "presenter") continue;
                for (const [verifierPod, vHeld] of live) {
                    const v = vHeld.get(p.secret);
                    if (v?.role !== "verifier" || v.generations.includes(p.generations[0])) continue;
                    const key = `${presenterPod}/${verifierPod}/${p.secret}`;
                    if (reported.has(key)) continue;
                    reported.add(key);
                    out.push({ rv: e.rv, secret: p.secret, presenterPod, presents: p.generations[0], verifierPod, accepts: v.generations });
                }
            }
        }
    }
    return out;
}

/** Pods that referenced a Secret object after it was deleted (a restart then cannot mount it). */
export function podsOutlivingTheirSecrets(events: ServerEvent[]): { pod: string; secret: string }[] {
    const deleted = new Map<string, number>();
    for (const e of events) if (e.kind === "Secret" && e.type === "DELETED") deleted.set(e.obj.name, e.rv);
    const out: { pod: string; secret: string }[] = [];
    const live = new Map<string, string[]>();
    for (const e of events) {
        if (e.kind === "Pod") {
            if (e.type === "DELETED") live.delete(e.obj.name);
            else live.set(e.obj.name, e.obj.secretRefs ?? []);
        }
        if (e.kind === "Secret" && e.type === "DELETED") {
            for (const [pod, refs] of live) if (refs.includes(e.obj.name)) out.push({ pod, secret: e.obj.name });
        }
    }
    return out;
}

export interface PodRollout {
    /** resourceVersion of the first pod of the app created (after `afterRv`) that reads the object. */
    firstNewRv?: number;
    /** resourceVersion at which `count` pods of the app read the object and are Ready, and no other pod of the app is left. */
    doneRv?: number;
}

/**
 * A roll-out seen through pods alone, for every workload kind (a
 * Deployment's ReplicaSets, a StatefulSet's or DaemonSet's pods): the pods
 * labelled `app=<app>` move to those that read Secret object `object`.
 * Terminating pods count as live until the server deletes them.
 */
export function podRollout(events: ServerEvent[], app: string, object: string, count: number, afterRv = 0): PodRollout {
    const live = new Map<string, { reads: boolean; ready: boolean }>();
    const out: PodRollout = {};
    for (const e of events) {
        if (e.kind !== "Pod" || e.obj.labels.app !== app) continue;
        const reads = (e.obj.secretRefs ?? []).includes(object);
        if (e.type === "DELETED") live.delete(e.obj.name);
        else {
            if (!live.has(e.obj.name) && e.type === "ADDED" && reads && e.rv > afterRv && out.firstNewRv === undefined)
                out.firstNewRv = e.rv;
            live.set(e.obj.name, { reads, ready: e.obj.ready === true });
        }
        if (out.doneRv === undefined && e.rv > afterRv) {
            const pods = [...live.values()];
            if (pods.length === count && pods.every((p) => p.reads && p.ready)) out.doneRv = e.rv;
        }
    }
    return out;
}
