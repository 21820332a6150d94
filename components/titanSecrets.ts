// TitanSecrets: the whole stack as one component. It turns a Plan into
// resources: key rings, one Kubernetes Secret object per (secret, role), and
// the Deployments, wired so that dependency edges carry the roll-out order.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { HmacKeyRing } from "./hmacKeyRing";
import { kubernetesProvider } from "./kubernetesProvider";
import { Plan, Role, SecretPlan, StackSpec } from "./model";
import { MANAGED_BY, TitanWorkload } from "./titanWorkload";

export interface TitanSecretsArgs {
    spec: StackSpec;
    plan: Plan;
}

/**
 * metadata.name of a role's Secret object. It names the generations it holds,
 * so new content means a new object (replaced, not edited: safety rule 3),
 * and a pod that restarts mid-up still finds the object its template names.
 */
export function secretObjectName(secret: string, role: Role, generations: number[]): string {
    return `${secret}-${role}s-${generations.map((g) => `g${g}`).join("-")}`;
}

export class TitanSecrets extends pulumi.ComponentResource {
    readonly provider: k8s.Provider;
    readonly keyRings = new Map<string, HmacKeyRing>();
    readonly secretObjects = new Map<string, k8s.core.v1.Secret>();
    readonly workloads = new Map<string, TitanWorkload>();

    constructor(name: string, args: TitanSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("titan-secrets:index:TitanSecrets", name, {}, opts);
        const { spec, plan } = args;
        this.provider = kubernetesProvider(spec.kubernetes, { parent: this });
        const k8sOpts = { parent: this, provider: this.provider };

        for (const p of plan.secrets) {
            this.keyRings.set(p.spec.name, new HmacKeyRing(p.spec.name, { plan: p }, { parent: this }));
        }
        const secretPlans = new Map(plan.secrets.map((p) => [p.spec.name, p]));
        const workloadPlans = new Map(plan.workloads.map((w) => [w.service.name, w]));

        // Created depth-first along the plan's edges, which are acyclic
        // (planRotation refused a cycle), so every dependency exists first.
        const secretObject = (p: SecretPlan, role: Role): k8s.core.v1.Secret => {
            const key = `${p.spec.name}/${role}`;
            const existing = this.secretObjects.get(key);
            if (existing) return existing;
            const held = p.view[role].generations;
            const obj = new k8s.core.v1.Secret(
                `${p.spec.name}-${role}s`,
                {
                    metadata: {
                        name: secretObjectName(p.spec.name, role, held),
                        namespace: spec.kubernetes.namespace,
                        labels: { ...MANAGED_BY, "titan-secrets.io/secret": p.spec.name, "titan-secrets.io/role": role },
                        annotations: { "titan-secrets.io/generations": held.join(","), "titan-secrets.io/key-ids": p.view[role].keyIds.join(",") },
                    },
                    type: "Opaque",
                    stringData: this.keyRings.get(p.spec.name)!.dataFor(role),
                },
                // The presenters' object of an overlap changes only in the
                // presenters' wave: it waits for the verifiers (safety rule 2).
                { ...k8sOpts, dependsOn: p.secretObjectDependsOn[role].map((w) => workload(w).deployment) },
            );
            this.secretObjects.set(key, obj);
            return obj;
        };

        const workload = (svc: string): TitanWorkload => {
            const existing = this.workloads.get(svc);
            if (existing) return existing;
            const w = workloadPlans.get(svc)!;
            const refs = w.consumes.map((c) => {
                const p = secretPlans.get(c.secret)!;
                return { plan: p, role: c.role, object: secretObject(p, c.role) };
            });
            const created = new TitanWorkload(
                svc,
                {
                    plan: w,
                    namespace: spec.kubernetes.namespace,
                    secretRefs: refs.map((r) => ({
                        objectName: secretObjectName(r.plan.spec.name, r.role, r.plan.view[r.role].generations),
                        keys: Object.keys(this.keyRings.get(r.plan.spec.name)!.dataFor(r.role)),
                    })),
                    waitFor: [...w.dependsOn.map((d) => workload(d).deployment), ...refs.map((r) => r.object)],
                    provider: this.provider,
                },
                { parent: this },
            );
            this.workloads.set(svc, created);
            return created;
        };

        for (const svc of workloadPlans.keys()) workload(svc);
        this.registerOutputs({});
    }
}
