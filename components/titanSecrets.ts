// TitanSecrets: the whole stack as one component. It turns a Plan into
// resources in named steps: providers, key material per secret, the stores
// of record, one Kubernetes Secret object per (secret, role), the
// Deployments, the API keys' verification Jobs and the rotation alerts.
//
// Ordering (docs/DESIGN.md, the safety rule): a role's Secret object waits
// for every workload the plan says must finish first (in an overlap, the
// presenters' object waits for every changing verifier), and each
// Deployment waits for the Secret objects it reads. So the object is a
// barrier: N verifiers and M presenters make N + M edges, not N x M.

import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import {
    KubernetesSpec,
    Plan,
    Role,
    SecretPlan,
    StackSpec,
    WorkloadPlan,
    backendNode,
    deliveryFor,
    isExternal,
    rotationAlerts,
    secretObjectName,
} from "../model";
import { ApiKeyCredential, ExchangeKey } from "./apiKeyCredential";
import { HmacKeyRing } from "./hmacKeyRing";
import { KeyMaterial, isKind, typeToken } from "./keyMaterial";
import { kubernetesProvider } from "./kubernetesProvider";
import { PasswordCredential } from "./passwordCredential";
import { kubeConfigFor, waitForRollout } from "./rolloutWait";
import { SecretsManagerRecord, VaultRecord } from "./stores";
import { MANAGED_BY, RolloutWaiter, TitanWorkload } from "./titanWorkload";
import { VerificationJob } from "./verificationJob";

export interface TitanSecretsArgs {
    spec: StackSpec;
    plan: Plan;
    /** API keys: a generation's key from secure config (required when an apiKey secret exists). */
    exchangeKeyOf?: (secret: string, generation: number) => ExchangeKey;
    /** A workload stack of a fleet: the key ring's key of a secret's generation (a secret Output). */
    keyRingKeyOf?: (secret: string, generation: number) => pulumi.Output<string>;
}

/** The program's own roll-out wait against the cluster the provider applies to (one client, made on first use). */
function rolloutWaiter(k: KubernetesSpec): RolloutWaiter {
    let kc: ReturnType<typeof kubeConfigFor> | undefined;
    return (target, rollingFor) =>
        waitForRollout((kc ??= kubeConfigFor(k)), target, { timeoutSeconds: k.rolloutTimeoutSeconds, rollingFor });
}

export class TitanSecrets extends pulumi.ComponentResource {
    /** The cluster's provider; none in a key stack (fleet.role keys), which declares no Kubernetes object. */
    readonly provider?: k8s.Provider;
    readonly awsProvider?: aws.Provider;
    readonly vaultProvider?: vault.Provider;
    readonly materials = new Map<string, KeyMaterial>();
    readonly secretObjects = new Map<string, k8s.core.v1.Secret>();
    readonly workloads = new Map<string, TitanWorkload>();
    readonly verificationJobs = new Map<string, VerificationJob>();
    /** Resolves when every workload that changed in this up has rolled out (at once when rendering or previewing). */
    readonly settled: pulumi.Output<unknown>;

    private readonly spec: StackSpec;
    private readonly plan: Plan;
    private readonly rollout?: RolloutWaiter;
    private readonly secretPlans: Map<string, SecretPlan>;
    private readonly workloadPlans: Map<string, WorkloadPlan>;
    /** The secret whose AWS backend is each backend node of the roll-out graph. */
    private readonly backendOwners: Map<string, string>;

    constructor(name: string, args: TitanSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("index", "TitanSecrets"), name, {}, opts);
        this.spec = args.spec;
        this.plan = args.plan;
        this.secretPlans = new Map(this.plan.secrets.map((p) => [p.spec.name, p]));
        this.workloadPlans = new Map(this.plan.workloads.map((w) => [w.service.name, w]));
        this.backendOwners = new Map(
            this.plan.secrets.flatMap((p) => (backendNode(p.spec) ? [[backendNode(p.spec)!, p.spec.name] as const] : [])),
        );
        const keysOnly = this.spec.fleet.role === "keys";
        if (!keysOnly) this.provider = kubernetesProvider(this.spec.kubernetes, { parent: this });
        this.rollout = !keysOnly && this.spec.kubernetes.renderDir === undefined ? rolloutWaiter(this.spec.kubernetes) : undefined;
        const needsAws =
            this.spec.stores.secretsManager !== undefined ||
            this.plan.secrets.some((p) => isKind(p, "password") && isExternal(p.spec.backend));
        if (needsAws) this.awsProvider = new aws.Provider("aws", { region: this.spec.aws.region as aws.Region }, { parent: this });
        if (this.spec.stores.vault)
            this.vaultProvider = new vault.Provider("vault", { address: this.spec.stores.vault.address }, { parent: this });

        for (const p of this.plan.secrets) this.materials.set(p.spec.name, this.keyMaterial(p, args));
        for (const p of this.plan.secrets) this.storesOfRecord(p);
        if (!keysOnly) {
            for (const w of this.plan.workloads) this.workload(w.service.name);
            for (const p of this.plan.secrets) this.verificationJob(p);
            if (this.spec.monitoring.prometheusRule) this.rotationAlerts();
        }

        this.settled = pulumi.all([...this.workloads.values()].map((w) => w.ready));
        this.registerOutputs({});
    }

    private clusterProvider(): k8s.Provider {
        if (!this.provider) throw new Error("TitanSecrets: a key stack declares no Kubernetes object");
        return this.provider;
    }

    private keyMaterial(p: SecretPlan, { exchangeKeyOf, keyRingKeyOf }: TitanSecretsArgs): KeyMaterial {
        const opts = { parent: this };
        if (isKind(p, "hmac"))
            return new HmacKeyRing(p.spec.name, { plan: p, received: keyRingKeyOf && ((g: number) => keyRingKeyOf(p.spec.name, g)) }, opts);
        if (isKind(p, "password")) return new PasswordCredential(p.spec.name, { plan: p, awsProvider: this.awsProvider }, opts);
        if (isKind(p, "apiKey")) {
            if (!exchangeKeyOf) throw new Error(`TitanSecrets: API key ${p.spec.name} needs exchangeKeyOf`);
            return new ApiKeyCredential(p.spec.name, { plan: p, keyOf: (g) => exchangeKeyOf(p.spec.name, g) }, opts);
        }
        throw new Error(`TitanSecrets: no key material for kind ${p.spec.kind}`);
    }

    private storesOfRecord(p: SecretPlan): void {
        const values = this.materials.get(p.spec.name)!.values;
        const { vault: v, secretsManager: sm } = this.spec.stores;
        if (v && this.vaultProvider)
            new VaultRecord(`${p.spec.name}-vault`, { plan: p, values, store: v, provider: this.vaultProvider }, { parent: this });
        if (sm && this.awsProvider)
            new SecretsManagerRecord(`${p.spec.name}-sm`, { plan: p, values, store: sm, provider: this.awsProvider }, { parent: this });
    }

    /** A node of the roll-out graph: a Deployment once rolled out, or an AWS backend resource. */
    private node(n: string): pulumi.Input<pulumi.Resource> {
        const owner = this.backendOwners.get(n);
        const resource = owner === undefined ? undefined : this.materials.get(owner)?.backendResource;
        return resource ?? this.workload(n).ready;
    }

    /**
     * A role's Secret object, created on first use, depth-first along the
     * plan's edges (acyclic: planRotation refused a cycle), so every
     * workload it waits for exists first.
     */
    private secretObject(p: SecretPlan, role: Role): k8s.core.v1.Secret {
        const key = `${p.spec.name}/${role}`;
        const existing = this.secretObjects.get(key);
        if (existing) return existing;
        const held = p.view[role].generations;
        const obj = new k8s.core.v1.Secret(
            `${p.spec.name}-${role}s`,
            {
                metadata: {
                    name: secretObjectName(p.spec.name, role, held),
                    namespace: this.spec.kubernetes.namespace,
                    labels: { ...MANAGED_BY, "titan-secrets.io/secret": p.spec.name, "titan-secrets.io/role": role },
                    annotations: {
                        "titan-secrets.io/generations": held.join(","),
                        "titan-secrets.io/key-ids": p.view[role].keyIds.join(","),
                    },
                },
                type: "Opaque",
                stringData: this.materials.get(p.spec.name)!.dataFor(role),
            },
            // The presenters' object of an overlap exists only once every
            // changing verifier has rolled out: it is the barrier.
            { parent: this, provider: this.provider, dependsOn: p.secretObjectDependsOn[role].map((n) => this.node(n)) },
        );
        this.secretObjects.set(key, obj);
        return obj;
    }

    private workload(svc: string): TitanWorkload {
        const existing = this.workloads.get(svc);
        if (existing) return existing;
        const w = this.workloadPlans.get(svc)!;
        const refs = w.consumes.map((c) => {
            const p = this.secretPlans.get(c.secret)!;
            return { plan: p, role: c.role, object: this.secretObject(p, c.role) };
        });
        const created = new TitanWorkload(
            svc,
            {
                plan: w,
                namespace: this.spec.kubernetes.namespace,
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
                // Its Secret objects carry the order (each waits for what must roll first).
                waitFor: refs.map((r) => r.object),
                provider: this.clusterProvider(),
                rollout: this.rollout,
            },
            { parent: this },
        );
        this.workloads.set(svc, created);
        return created;
    }

    /** API keys in overlap: prove the new key after the presenters' wave. */
    private verificationJob(p: SecretPlan): void {
        if (!isKind(p, "apiKey") || p.spec.stage !== "overlap" || !this.provider) return;
        const verification = p.spec.verification;
        if (!verification) return;
        const job = new VerificationJob(
            `verify-${p.spec.name}`,
            {
                plan: { ...p, spec: { ...p.spec, verification } },
                namespace: this.spec.kubernetes.namespace,
                presenterObjectName: secretObjectName(p.spec.name, "presenter", p.view.presenter.generations),
                provider: this.provider,
                waitFor: [...p.spec.presenters.map((svc) => this.workload(svc).ready), this.secretObject(p, "presenter")],
            },
            { parent: this },
        );
        this.verificationJobs.set(p.spec.name, job);
    }

    private rotationAlerts(): void {
        new k8s.apiextensions.CustomResource(
            "rotation-alerts",
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: {
                    name: "titan-secrets-rotation",
                    namespace: this.spec.kubernetes.namespace,
                    labels: { ...MANAGED_BY, ...this.spec.monitoring.labels },
                },
                spec: { groups: [{ name: "titan-secrets-rotation", rules: rotationAlerts(this.plan) }] },
            },
            { parent: this, provider: this.provider },
        );
    }
}
