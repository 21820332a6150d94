// A project applied to the local control plane: the dev stack's services
// and secrets in a namespace of its own, the program's provider pointed at
// the cluster, and a ServerLog recording what the API server did.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { E2EProject } from "./engine";
import { stackConfig } from "./stackFiles";
import { Cluster, createNamespace, deleteNamespace, ensureCluster, kubeConfig } from "./cluster";
import { ServerLog } from "./serverLog";

export const HMAC_VERIFIERS = ["titan-execution-rs", "titan-sentinel"];
export const HMAC_PRESENTER = "titan-brain";

export interface LiveOptions {
    /** Pods per service (the dev stack has 1; the roll-outs are more telling with several). */
    replicas?: number;
    rolloutTimeoutSeconds?: number;
    /** Changes to the config before the project is created (another fleet, other workload kinds). */
    edit?: (config: Record<string, unknown>) => void;
}

/** The dev stack's config, applied to `namespace` of the cluster. */
export function liveConfig(cluster: Cluster, namespace: string, options: LiveOptions = {}): Record<string, unknown> {
    const all = structuredClone(stackConfig("dev").all);
    const services = all["titan-secrets:services"] as Record<string, { replicas?: number }>;
    for (const s of Object.values(services)) s.replicas = options.replicas ?? 3;
    all["titan-secrets:kubernetes"] = {
        namespace,
        kubeconfig: cluster.kubeconfig,
        context: cluster.context,
        rolloutTimeoutSeconds: options.rolloutTimeoutSeconds ?? 180,
    };
    return all;
}

/** The dev stack's secrets with titan-hmac at a stage (minOverlapHours 0 so a test can retire the secondary at once). */
export function hmacAt(config: Record<string, unknown>, generation: number, stage: string): Record<string, unknown> {
    const secrets = config["titan-secrets:secrets"] as Record<string, Record<string, unknown>>;
    return { ...secrets, "titan-hmac": { ...secrets["titan-hmac"], generation, stage, minOverlapHours: 0 } };
}

export class LiveProject {
    private constructor(
        readonly cluster: Cluster,
        readonly namespace: string,
        readonly kc: KubeConfig,
        readonly project: E2EProject,
        readonly log: ServerLog,
        readonly config: Record<string, unknown>,
    ) {}

    static async create(prefix: string, options: LiveOptions = {}): Promise<LiveProject> {
        const cluster = await ensureCluster();
        const namespace = await createNamespace(cluster, prefix);
        const kc = await kubeConfig(cluster);
        const log = await ServerLog.start(kc, namespace);
        const config = liveConfig(cluster, namespace, options);
        options.edit?.(config);
        const project = await E2EProject.create("live", config);
        return new LiveProject(cluster, namespace, kc, project, log, config);
    }

    setHmac(generation: number, stage: string): void {
        this.project.setConfig("secrets", hmacAt(this.config, generation, stage));
    }

    /** The ledger the last successful up exported. */
    async ledger(): Promise<Record<string, { generation: number; stage: string }>> {
        return (await this.project.outputs()).ledger as Record<string, { generation: number; stage: string }>;
    }

    /** The engine's own log files of the CLI runs (PULUMI_HOME/logs), for the leak search. */
    engineLogs(): string {
        const dir = join(this.project.dir, ".pulumi-home", "logs");
        try {
            return readdirSync(dir)
                .map((f) => readFileSync(join(dir, f), "utf8"))
                .join("\n");
        } catch {
            return "";
        }
    }

    async destroy(): Promise<void> {
        this.log.stop();
        await deleteNamespace(this.cluster, this.namespace);
        this.project.destroy();
    }
}
