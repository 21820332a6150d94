// TitanWorkload: a Titan service's Deployment. It reads each consumed secret
// from its role's Secret object by name; the object's name carries the
// generations it holds, so a changed credential changes the pod template
// (and rolls the pods) while an unchanged one leaves the Deployment alone.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ANNOTATION_CONSUMES, ANNOTATION_STAGES, WorkloadPlan } from "./model";

export interface SecretRef {
    /** metadata.name of the Secret object. */
    objectName: string;
    /** The keys it holds, delivered as environment variables of the same name. */
    keys: string[];
}

export interface TitanWorkloadArgs {
    plan: WorkloadPlan;
    namespace: string;
    /** One entry per consumed secret, in the order of `plan.consumes`. */
    secretRefs: SecretRef[];
    /** Resources that must be in place (rolled out) before this Deployment changes. */
    waitFor: pulumi.Resource[];
    /** The stack's one Kubernetes provider (never the default one). */
    provider: k8s.Provider;
}

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "titan-secrets" };

/** The container env: plain values from config, then secret references, sorted. */
export function containerEnv(plain: Record<string, string>, refs: SecretRef[]): k8s.types.input.core.v1.EnvVar[] {
    const fromSecrets = refs.flatMap((r) => r.keys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: r.objectName, key } } })));
    const values = Object.entries(plain).map(([name, value]) => ({ name, value }));
    return [...values, ...fromSecrets].sort((a, b) => a.name.localeCompare(b.name));
}

export function deploymentArgs(args: TitanWorkloadArgs): k8s.apps.v1.DeploymentArgs {
    const { service, consumesAnnotation, stagesAnnotation } = args.plan;
    const labels = { app: service.name, ...MANAGED_BY };
    return {
        metadata: {
            name: service.name,
            namespace: args.namespace,
            labels,
            // Stages change without changing what a pod holds (overlap g2 and
            // stable g2 look the same to a presenter): kept off the template.
            annotations: stagesAnnotation ? { [ANNOTATION_STAGES]: stagesAnnotation } : undefined,
        },
        spec: {
            replicas: service.replicas,
            selector: { matchLabels: { app: service.name } },
            template: {
                metadata: {
                    labels,
                    annotations: consumesAnnotation ? { [ANNOTATION_CONSUMES]: consumesAnnotation } : undefined,
                },
                spec: {
                    containers: [
                        {
                            name: service.name,
                            image: service.image,
                            env: containerEnv(service.env, args.secretRefs),
                            ports: service.port ? [{ containerPort: service.port }] : undefined,
                        },
                    ],
                },
            },
        },
    };
}

export class TitanWorkload extends pulumi.ComponentResource {
    readonly deployment: k8s.apps.v1.Deployment;

    constructor(name: string, args: TitanWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("titan-secrets:workload:TitanWorkload", name, {}, opts);
        this.deployment = new k8s.apps.v1.Deployment(name, deploymentArgs(args), { parent: this, provider: args.provider, dependsOn: args.waitFor });
        this.registerOutputs({});
    }
}
