// TitanSecrets: the whole stack as one component. It turns a Plan into
// resources: key material per secret (HMAC key rings, service passwords),
// one Kubernetes Secret object per (secret, role), the Deployments, the AWS
// backends and the stores of record, wired so that dependency edges carry
// the roll-out order.

import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { ApiKeyCredential, ExchangeKey } from "./apiKeyCredential";
import { HmacKeyRing } from "./hmacKeyRing";
import { kubernetesProvider } from "./kubernetesProvider";
import { KubernetesSpec, Plan, Role, SecretPlan, StackSpec, backendNode, deliveryFor, isExternal, rotationAlerts, secretObjectName } from "../model";
import { PasswordCredential } from "./passwordCredential";
import { SecretsManagerRecord, VaultRecord } from "./stores";
import { MANAGED_BY, RolloutWaiter, TitanWorkload } from "./titanWorkload";
import { kubeConfigFor, waitForRollout } from "./rolloutWait";
import { VerificationJob } from "./verificationJob";

export interface TitanSecretsArgs {
    spec: StackSpec;
    plan: Plan;
    /** API keys: a generation's key from secure config (required when an apiKey secret exists). */
    exchangeKeyOf?: (secret: string, generation: number) => ExchangeKey;
}

type Material = HmacKeyRing | PasswordCredential | ApiKeyCredential;

/** The program's own roll-out wait against the cluster the provider applies to (one client, made on first use). */
function rolloutWaiter(k: KubernetesSpec): RolloutWaiter {
    let kc: ReturnType<typeof kubeConfigFor> | undefined;
    return (target, rollingFor) => waitForRollout((kc ??= kubeConfigFor(k)), target, { timeoutSeconds: k.rolloutTimeoutSeconds, rollingFor });
}

export class TitanSecrets extends pulumi.ComponentResource {
    readonly provider: k8s.Provider;
    readonly awsProvider?: aws.Provider;
    readonly vaultProvider?: vault.Provider;
    readonly materials = new Map<string, Material>();
    readonly secretObjects = new Map<string, k8s.core.v1.Secret>();
    readonly workloads = new Map<string, TitanWorkload>();
    readonly verificationJobs = new Map<string, VerificationJob>();
    /** Resolves when every workload that changed in this up has rolled out (at once when rendering or previewing). */
    readonly settled: pulumi.Output<unknown>;

    constructor(name: string, args: TitanSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("titan-secrets:index:TitanSecrets", name, {}, opts);
        const { spec, plan } = args;
        this.provider = kubernetesProvider(spec.kubernetes, { parent: this });
        const k8sOpts = { parent: this, provider: this.provider };
        const needsAws = spec.stores.secretsManager !== undefined || plan.secrets.some((p) => p.spec.backend && isExternal(p.spec.backend));
        if (needsAws) this.awsProvider = new aws.Provider("aws", { region: spec.aws.region as aws.Region }, { parent: this });
        if (spec.stores.vault) this.vaultProvider = new vault.Provider("vault", { address: spec.stores.vault.address }, { parent: this });

        for (const p of plan.secrets) {
            const material: Material =
                p.spec.kind === "hmac"
                    ? new HmacKeyRing(p.spec.name, { plan: p }, { parent: this })
                    : p.spec.kind === "password"
                      ? new PasswordCredential(p.spec.name, { plan: p, awsProvider: this.awsProvider }, { parent: this })
                      : new ApiKeyCredential(p.spec.name, { plan: p, keyOf: (g) => args.exchangeKeyOf!(p.spec.name, g) }, { parent: this });
            this.materials.set(p.spec.name, material);
            const values = material instanceof HmacKeyRing ? material.keys : material instanceof PasswordCredential ? material.passwords : material.values;
            if (spec.stores.vault) new VaultRecord(`${p.spec.name}-vault`, { plan: p, values, store: spec.stores.vault, provider: this.vaultProvider! }, { parent: this });
            if (spec.stores.secretsManager) {
                new SecretsManagerRecord(`${p.spec.name}-sm`, { plan: p, values, store: spec.stores.secretsManager, provider: this.awsProvider! }, { parent: this });
            }
        }
        const secretPlans = new Map(plan.secrets.map((p) => [p.spec.name, p]));
        const workloadPlans = new Map(plan.workloads.map((w) => [w.service.name, w]));
        const backends = new Map(
            plan.secrets.flatMap((p) => {
                const node = backendNode(p.spec);
                const material = this.materials.get(p.spec.name);
                const resource = material instanceof PasswordCredential ? material.backendResource : undefined;
                return node && resource ? [[node, resource] as const] : [];
            }),
        );

        // A node of the roll-out graph: a Deployment once rolled out, or an AWS backend.
        const node = (n: string): pulumi.Input<pulumi.Resource> => backends.get(n) ?? workload(n).ready;
        const rollout = spec.kubernetes.renderDir === undefined ? rolloutWaiter(spec.kubernetes) : undefined;

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
                    stringData: this.materials.get(p.spec.name)!.dataFor(role),
                },
                // The presenters' object of an overlap changes only in the
                // presenters' wave: it waits for the verifiers (safety rule 2).
                { ...k8sOpts, dependsOn: p.secretObjectDependsOn[role].map(node) },
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
                    secretRefs: refs.map((r) => {
                        const present = Object.keys(this.materials.get(r.plan.spec.name)!.dataFor(r.role));
                        const d = deliveryFor(r.plan.spec, r.role);
                        return {
                            objectName: secretObjectName(r.plan.spec.name, r.role, r.plan.view[r.role].generations),
                            env: d.secretEnv.filter((k) => present.includes(k)),
                            files: d.files,
                            plainEnv: d.plainEnv,
                        };
                    }),
                    waitFor: [...w.dependsOn.map(node), ...refs.map((r) => r.object)],
                    provider: this.provider,
                    rollout,
                },
                { parent: this },
            );
            this.workloads.set(svc, created);
            return created;
        };

        for (const svc of workloadPlans.keys()) workload(svc);

        // API keys in overlap: prove the new key after the presenters' wave.
        for (const p of plan.secrets) {
            if (p.spec.kind !== "apiKey" || p.spec.stage !== "overlap" || !p.spec.verification) continue;
            const job = new VerificationJob(
                `verify-${p.spec.name}`,
                {
                    plan: p,
                    namespace: spec.kubernetes.namespace,
                    presenterObjectName: secretObjectName(p.spec.name, "presenter", p.view.presenter.generations),
                    provider: this.provider,
                    waitFor: [...p.spec.presenters.map((svc) => workload(svc).ready), secretObject(p, "presenter")],
                },
                { parent: this },
            );
            this.verificationJobs.set(p.spec.name, job);
        }

        if (spec.monitoring.prometheusRule) {
            new k8s.apiextensions.CustomResource(
                "rotation-alerts",
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name: "titan-secrets-rotation", namespace: spec.kubernetes.namespace, labels: { ...MANAGED_BY, ...spec.monitoring.labels } },
                    spec: { groups: [{ name: "titan-secrets-rotation", rules: rotationAlerts(plan) }] },
                },
                k8sOpts,
            );
        }
        this.settled = pulumi.all([...this.workloads.values()].map((w) => w.ready));
        this.registerOutputs({});
    }
}
