// The stack files of a fleet for the tests and the bench: a key stack
// (`keys`) and one workload stack per cluster, sharing one HMAC key. Each
// cluster has a verifier and a presenter of it, so a signer in one cluster
// talks to listeners in both.

export const FLEET_SECRET = "titan-hmac";

/** Per cluster: its services (verifier, presenter). */
export const FLEET_CLUSTERS: Record<string, { verifier: string; presenter: string }> = {
    eu: { verifier: "titan-execution-rs", presenter: "titan-brain" },
    us: { verifier: "titan-sentinel", presenter: "titan-ai-quant" },
};

export interface ClusterTarget {
    /** Render manifests to this folder (no cluster), or apply to a cluster: */
    renderDir?: string;
    kubeconfig?: string;
    context?: string;
    namespace?: string;
    replicas?: number;
    rolloutTimeoutSeconds?: number;
}

export function fleetStackConfigs(targets: Record<string, ClusterTarget>): {
    keys: (generation: number, stage: string) => Record<string, unknown>;
} & Record<string, Record<string, unknown>> {
    const clusters = Object.keys(targets);
    const out: Record<string, Record<string, unknown>> = {};
    for (const [name, t] of Object.entries(targets)) {
        const roles = FLEET_CLUSTERS[name];
        const image = (svc: string) => `ghcr.io/titan-trading/${svc}:dev`;
        out[name] = {
            "titan-secrets:fleet": { role: "workloads", keyRing: "keys" },
            "titan-secrets:kubernetes": {
                namespace: t.namespace ?? "titan",
                ...(t.renderDir ? { renderDir: t.renderDir } : { kubeconfig: t.kubeconfig, context: t.context }),
                ...(t.rolloutTimeoutSeconds ? { rolloutTimeoutSeconds: t.rolloutTimeoutSeconds } : {}),
            },
            "titan-secrets:services": {
                [roles.verifier]: { image: image(roles.verifier), replicas: t.replicas ?? 1 },
                [roles.presenter]: { image: image(roles.presenter), replicas: t.replicas ?? 1 },
            },
            "titan-secrets:consumers": { [FLEET_SECRET]: { verifiers: [roles.verifier], presenters: [roles.presenter] } },
        };
    }
    return Object.assign(out, {
        keys: (generation: number, stage: string) => ({
            "titan-secrets:fleet": { role: "keys", clusters },
            "titan-secrets:secrets": { [FLEET_SECRET]: { kind: "hmac", generation, stage, minOverlapHours: 0 } },
        }),
    }) as never;
}
