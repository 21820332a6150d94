// What the API server itself recorded: a watch of the Deployments,
// ReplicaSets, Pods and Secrets of one namespace, from a LIST's
// resourceVersion on, so no change is missed. Each event keeps the
// object's resourceVersion, which the etcd3 storage assigns from one
// revision counter for every object of the cluster: ordering events by it
// orders them as etcd committed them, across kinds. Secret data is never
// kept, only names, labels and annotations.

import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";

export type Kind = "Deployment" | "ReplicaSet" | "Pod" | "Secret";

export interface Summary {
    name: string;
    uid: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    createdAt?: string;
    deletedAt?: string;
    owner?: string;
    generation?: number;
    /** Deployments and ReplicaSets: the pod template's annotations. */
    template?: Record<string, string>;
    replicas?: number;
    status?: Record<string, unknown>;
    /** Pods: the Secret objects the pod reads (env and volumes). */
    secretRefs?: string[];
    ready?: boolean;
    /** Pods: when the server recorded the Ready condition becoming true (its lastTransitionTime). */
    readyAt?: string;
}

export interface ServerEvent {
    rv: number;
    /** When this process received it (ms since epoch). */
    at: number;
    type: "ADDED" | "MODIFIED" | "DELETED" | "LISTED";
    kind: Kind;
    obj: Summary;
}

const PATHS: Record<Kind, { apiVersion: string; path: (ns: string) => string }> = {
    Deployment: { apiVersion: "apps/v1", path: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments` },
    ReplicaSet: { apiVersion: "apps/v1", path: (ns) => `/apis/apps/v1/namespaces/${ns}/replicasets` },
    Pod: { apiVersion: "v1", path: (ns) => `/api/v1/namespaces/${ns}/pods` },
    Secret: { apiVersion: "v1", path: (ns) => `/api/v1/namespaces/${ns}/secrets` },
};

export function summarize(kind: Kind, o: any): Summary {
    const m = o.metadata ?? {};
    const s: Summary = {
        name: m.name,
        uid: m.uid,
        labels: m.labels ?? {},
        annotations: m.annotations ?? {},
        createdAt: m.creationTimestamp ? new Date(m.creationTimestamp).toISOString() : undefined,
        deletedAt: m.deletionTimestamp ? new Date(m.deletionTimestamp).toISOString() : undefined,
        owner: m.ownerReferences?.[0]?.name,
        generation: m.generation,
    };
    if (kind === "Deployment" || kind === "ReplicaSet") {
        s.template = o.spec?.template?.metadata?.annotations ?? {};
        s.replicas = o.spec?.replicas ?? 1;
        s.status = { ...(o.status ?? {}), conditions: undefined };
        s.secretRefs = secretRefsOf(o.spec?.template?.spec);
    }
    if (kind === "Pod") {
        s.secretRefs = secretRefsOf(o.spec);
        const ready = (o.status?.conditions ?? []).find((c: any) => c.type === "Ready" && c.status === "True");
        s.ready = ready !== undefined;
        if (ready?.lastTransitionTime) s.readyAt = new Date(ready.lastTransitionTime).toISOString();
        s.status = { phase: o.status?.phase };
    }
    return s;
}

function secretRefsOf(podSpec: any): string[] {
    const names = new Set<string>();
    for (const c of podSpec?.containers ?? [])
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const v of podSpec?.volumes ?? []) {
        if (v.secret?.secretName) names.add(v.secret.secretName);
        for (const src of v.projected?.sources ?? []) if (src.secret?.name) names.add(src.secret.name);
    }
    return [...names].sort();
}

export class ServerLog {
    readonly events: ServerEvent[] = [];
    private readonly aborts: (() => void)[] = [];
    private stopped = false;

    private constructor(
        private readonly kc: KubeConfig,
        readonly namespace: string,
    ) {}

    static async start(kc: KubeConfig, namespace: string): Promise<ServerLog> {
        const log = new ServerLog(kc, namespace);
        for (const kind of Object.keys(PATHS) as Kind[]) await log.follow(kind);
        return log;
    }

    /** The highest resourceVersion seen: a mark to compare later events with. */
    mark(): number {
        return this.events.reduce((m, e) => Math.max(m, e.rv), 0);
    }

    /**
     * Waits until the watches have caught up with the server: for every kind,
     * a fresh LIST's objects are exactly those the log has not seen deleted,
     * each at the resourceVersion of its latest event here.
     */
    async sync(timeoutMs = 30_000): Promise<void> {
        const { KubernetesObjectApi } = await import("@kubernetes/client-node");
        const api = KubernetesObjectApi.makeApiClient(this.kc);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            let behind = "";
            for (const kind of Object.keys(PATHS) as Kind[]) {
                const list = await api.list(PATHS[kind].apiVersion, kind, this.namespace);
                const live = new Map(
                    (list.items as KubernetesObject[]).map((o) => [o.metadata!.uid!, Number(o.metadata!.resourceVersion)]),
                );
                const latest = new Map<string, ServerEvent>();
                for (const e of this.events) if (e.kind === kind) latest.set(e.obj.uid, e);
                for (const [uid, rv] of live) if (latest.get(uid)?.rv !== rv) behind = `${kind} ${uid} at ${rv}`;
                for (const [uid, e] of latest) if (!live.has(uid) && e.type !== "DELETED") behind = `${kind} ${e.obj.name} not yet deleted`;
            }
            if (behind === "") return;
            if (Date.now() > deadline) throw new Error(`the watch did not catch up with the server: ${behind}`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    sorted(): ServerEvent[] {
        return [...this.events].sort((a, b) => a.rv - b.rv);
    }

    stop(): void {
        this.stopped = true;
        for (const a of this.aborts) a();
    }

    private async follow(kind: Kind): Promise<void> {
        const { KubernetesObjectApi, Watch } = await import("@kubernetes/client-node");
        const api = KubernetesObjectApi.makeApiClient(this.kc);
        const list = await api.list(PATHS[kind].apiVersion, kind, this.namespace);
        let rv = list.metadata?.resourceVersion ?? "0";
        for (const o of list.items as KubernetesObject[]) {
            this.events.push({ rv: Number(o.metadata?.resourceVersion), at: Date.now(), type: "LISTED", kind, obj: summarize(kind, o) });
        }
        const watch = new Watch(this.kc);
        const open = async (): Promise<void> => {
            if (this.stopped) return;
            const ctrl = await watch.watch(
                PATHS[kind].path(this.namespace),
                { resourceVersion: rv, allowWatchBookmarks: true },
                (type: string, o: any) => {
                    if (o?.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
                    if (type === "BOOKMARK" || type === "ERROR") return;
                    this.events.push({
                        rv: Number(o.metadata.resourceVersion),
                        at: Date.now(),
                        type: type as ServerEvent["type"],
                        kind,
                        obj: summarize(kind, o),
                    });
                },
                () => {
                    // The server ends watches after a while: carry on from the last revision.
                    if (!this.stopped) setTimeout(() => void open(), 100);
                },
            );
            this.aborts.push(() => ctrl.abort());
        };
        await open();
    }
}
