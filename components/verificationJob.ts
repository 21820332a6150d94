// The proof that a new API key works before the old one goes: a Kubernetes
// Job, after the presenters' wave of an overlap, that runs the configured
// command (the runbook's minimum-size test order in Lab Mode) with the new
// key delivered exactly as the presenters get it. Pulumi's Kubernetes
// provider waits for a Job to complete, so a failed Job fails the up; the
// old key stays valid at the exchange and in the stores.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ApiKeySecretSpec, VerificationSpec, deliveryFor, verificationJobName } from "../model";
import { PlanOf } from "./keyMaterial";
import { SecretRef, containerEnv, fileVolumes, MANAGED_BY } from "./titanWorkload";

export interface VerificationJobArgs {
    plan: PlanOf<ApiKeySecretSpec> & { spec: { verification: VerificationSpec } };
    namespace: string;
    /** The presenters' Secret object (the new key). */
    presenterObjectName: string;
    provider: k8s.Provider;
    /** The presenters' Deployments and Secret object: the Job runs after them. */
    waitFor: pulumi.Input<pulumi.Resource>[];
}

export function verificationJobArgs(args: VerificationJobArgs): k8s.batch.v1.JobArgs {
    const { spec } = args.plan;
    const v = spec.verification;
    const d = deliveryFor(spec, "presenter");
    const ref: SecretRef = { objectName: args.presenterObjectName, env: [], files: d.files, plainEnv: d.plainEnv };
    const { volumes, mounts } = fileVolumes([ref]);
    return {
        metadata: {
            name: verificationJobName(spec.name, spec.generation),
            namespace: args.namespace,
            labels: { ...MANAGED_BY, "titan-secrets.io/secret": spec.name, "titan-secrets.io/verifies": `g${spec.generation}` },
        },
        spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: v.timeoutSeconds,
            template: {
                metadata: { labels: { ...MANAGED_BY, "titan-secrets.io/secret": spec.name } },
                spec: {
                    restartPolicy: "Never",
                    containers: [
                        { name: "verify", image: v.image, command: v.command, env: containerEnv(v.env, [ref]), volumeMounts: mounts },
                    ],
                    volumes,
                },
            },
        },
    };
}

export class VerificationJob extends pulumi.ComponentResource {
    readonly job: k8s.batch.v1.Job;
    /** True once the Job has succeeded (known after the up; unknown in render mode). */
    readonly succeeded: pulumi.Output<boolean>;

    constructor(name: string, args: VerificationJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("titan-secrets:apikey:VerificationJob", name, {}, opts);
        const timeout = `${args.plan.spec.verification.timeoutSeconds + 60}s`;
        this.job = new k8s.batch.v1.Job(name, verificationJobArgs(args), {
            parent: this,
            provider: args.provider,
            dependsOn: args.waitFor,
            customTimeouts: { create: timeout, update: timeout },
        });
        this.succeeded = this.job.status.apply((s) => (s?.succeeded ?? 0) > 0);
        this.registerOutputs({});
    }
}
