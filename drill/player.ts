// Real processes play the pods of a live namespace: for every pod of an
// HMAC consumer that the cluster has put on a node, one process (drill/pod.ts)
// with the environment the kubelet would give it, resolved from the pod
// spec and the Secret objects on the server; stopped when the server deletes
// the pod. Presenters are told where every live verifier listens. What they
// report is counted per phase of the rotation and per second.

import { ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseConsumes } from "../model";
import type { FromPod } from "./pod";

export interface Counts {
    sent: number;
    accepted: number;
    refused: number;
}

export interface TimelineEvent {
    /** ms since the drill started. */
    t: number;
    kind: "pod-start" | "pod-stop" | "phase";
    app?: string;
    role?: string;
    /** What the pod holds, e.g. "g2+g1". */
    holds?: string;
    phase?: string;
}

/** The fields of a Pod the player reads. */
interface PodLike {
    metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
    spec: { nodeName?: string; containers: ContainerLike[] };
    status?: { conditions?: { type: string; status: string }[] };
}

interface ContainerLike {
    env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
}

interface PodProcess {
    child: ChildProcess;
    app: string;
    role: "verifier" | "presenter";
    url?: string;
}

export class PodPlayer {
    readonly started = Date.now();
    readonly timeline: TimelineEvent[] = [];
    /** Refused requests per second since the start. */
    readonly failuresPerSecond: number[] = [];
    readonly byPhase = new Map<string, Counts>();
    phase = "start";
    private readonly pods = new Map<string, PodProcess>();
    private readonly secrets = new Map<string, Record<string, string>>();
    private abort?: () => void;
    private timer?: NodeJS.Timeout;

    constructor(
        private readonly kc: KubeConfig,
        private readonly namespace: string,
        private readonly secret: string,
    ) {}

    setPhase(phase: string): void {
        this.phase = phase;
        this.counts(phase); // every stage has a row, even one in which nothing was sent
        this.timeline.push({ t: Date.now() - this.started, kind: "phase", phase });
    }

    counts(phase = this.phase): Counts {
        let c = this.byPhase.get(phase);
        if (!c) this.byPhase.set(phase, (c = { sent: 0, accepted: 0, refused: 0 }));
        return c;
    }

    totals(): Counts {
        const t = { sent: 0, accepted: 0, refused: 0 };
        for (const c of this.byPhase.values()) for (const k of ["sent", "accepted", "refused"] as const) t[k] += c[k];
        return t;
    }

    async start(): Promise<void> {
        const { Watch } = await import("@kubernetes/client-node");
        const watch = new Watch(this.kc);
        const ctrl = await watch.watch(
            `/api/v1/namespaces/${this.namespace}/pods`,
            {},
            (type: string, pod: PodLike) => void this.onPod(type, pod),
            () => undefined,
        );
        this.abort = () => ctrl.abort();
        this.timer = setInterval(() => this.sendTargets(), 250);
    }

    /** Waits until requests are accepted (the pods' processes are up); a drill without traffic proves nothing. */
    async waitForTraffic(timeoutMs = 120_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (this.totals().accepted === 0) {
            if (Date.now() > deadline)
                throw new Error(`no request was accepted within ${timeoutMs / 1000}s: the drill's pod processes did not start`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    stop(): void {
        this.abort?.();
        if (this.timer) clearInterval(this.timer);
        for (const name of [...this.pods.keys()]) this.stopPod(name);
    }

    private async onPod(type: string, pod: PodLike): Promise<void> {
        const name: string = pod.metadata.name;
        if (type === "DELETED") return this.stopPod(name);
        // The container starts once the pod is on a node, before the pod is
        // Ready (a kubelet starts it, then probes it): so does the process.
        if (!pod.spec.nodeName || pod.metadata.deletionTimestamp || this.pods.has(name)) return;
        const held = parseConsumes(pod.metadata.annotations?.["titan-secrets.io/consumes"])?.find((h) => h.secret === this.secret);
        if (!held) return;
        this.pods.set(name, { child: undefined as unknown as ChildProcess, app: pod.metadata.labels?.app ?? name, role: held.role });
        const env = await this.envOf(pod.spec.containers[0]);
        const entry = this.pods.get(name);
        if (!entry) return; // deleted meanwhile
        entry.child = fork(join(__dirname, "pod.ts"), [], {
            execArgv: ["--import", "tsx"],
            env: { PATH: process.env.PATH ?? "", ...env, DRILL_ROLE: held.role },
            stdio: ["ignore", "ignore", "inherit", "ipc"],
        });
        entry.child.on("message", (m: FromPod) => this.onMessage(entry, m));
        this.timeline.push({
            t: Date.now() - this.started,
            kind: "pod-start",
            app: entry.app,
            role: held.role,
            holds: held.generations.map((g) => `g${g}`).join("+"),
        });
    }

    private stopPod(name: string): void {
        const p = this.pods.get(name);
        if (!p) return;
        this.pods.delete(name);
        p.child?.kill("SIGTERM");
        this.timeline.push({ t: Date.now() - this.started, kind: "pod-stop", app: p.app, role: p.role });
        this.sendTargets();
    }

    private onMessage(p: PodProcess, m: FromPod): void {
        if (m.type === "listening") {
            p.url = `http://127.0.0.1:${m.port}/`;
            this.sendTargets();
            return;
        }
        if (m.type !== "sent") return; // the presenters' view is the count; the verifiers' is the same requests
        const c = this.counts();
        c.sent++;
        if (m.ok) c.accepted++;
        else {
            c.refused++;
            const second = Math.floor((Date.now() - this.started) / 1000);
            while (this.failuresPerSecond.length <= second) this.failuresPerSecond.push(0);
            this.failuresPerSecond[second]++;
        }
    }

    private sendTargets(): void {
        const urls = [...this.pods.values()].filter((p) => p.role === "verifier" && p.url).map((p) => p.url!);
        for (const p of this.pods.values()) if (p.role === "presenter" && p.child?.connected) p.child.send({ type: "targets", urls });
    }

    /** The pod's environment: plain values, and Secret object keys read from the server. */
    private async envOf(container: ContainerLike): Promise<Record<string, string>> {
        const { CoreV1Api } = await import("@kubernetes/client-node");
        const api = this.kc.makeApiClient(CoreV1Api);
        const env: Record<string, string> = {};
        for (const e of container.env ?? []) {
            if (e.value !== undefined) env[e.name] = e.value;
            const ref = e.valueFrom?.secretKeyRef;
            if (!ref) continue;
            let data = this.secrets.get(ref.name);
            if (!data) {
                const s = await api.readNamespacedSecret({ name: ref.name, namespace: this.namespace });
                data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
                this.secrets.set(ref.name, data);
            }
            env[e.name] = data[ref.key];
        }
        return env;
    }
}
