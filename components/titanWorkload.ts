// TitanWorkload: a Titan service's workload (a Deployment, StatefulSet or
// DaemonSet). It reads each consumed secret from its role's Secret object by
// name; the object's name carries the generations it holds, so a changed
// credential changes the pod template (and rolls the pods) while an
// unchanged one leaves the workload alone.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ANNOTATION_CONSUMES, ANNOTATION_STAGES, MANAGED_BY, ServiceSpec, WORKLOAD_KINDS, WorkloadPlan } from "../model";
import { RolloutTarget } from "./rolloutWait";

export interface SecretRef {
    /** metadata.name of the Secret object. */
    objectName: string;
    /** Keys delivered as environment variables of the same name. */
    env: string[];
    /** Keys delivered as files (mode 0400, or 0440 for a service that runs as a non-root group: fileMode). */
    files: { key: string; path: string }[];
    /** Plain variables that go with it (where the files are). */
    plainEnv: Record<string, string>;
}

export interface TitanWorkloadArgs {
    plan: WorkloadPlan;
    namespace: string;
    /** One entry per consumed secret, in the order of `plan.consumes`. */
    secretRefs: SecretRef[];
    /** Resources that must be in place (rolled out, or updated for an AWS backend) before this Deployment changes. */
    waitFor: pulumi.Input<pulumi.Resource>[];
    /** The stack's one Kubernetes provider (never the default one). */
    provider: k8s.Provider;
    /**
     * Applying to a cluster: how to wait for this workload's roll-out. Absent
     * when rendering manifests (nothing rolls).
     */
    rollout?: RolloutWaiter;
}

/** Waits until the API server reports the workload rolled out (components/rolloutWait.ts). */
export type RolloutWaiter = (target: RolloutTarget, rollingFor: string) => Promise<void>;

/** Deployment annotation: the provider does not await; the program's own wait does (rolloutWait.ts). */
export const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" };

/** The program's own label (model/names.ts: the config may not replace it). */
export { MANAGED_BY };

/** The container env: plain values from config and deliveries, then secret references, sorted. */
export function containerEnv(plain: Record<string, string>, refs: SecretRef[]): k8s.types.input.core.v1.EnvVar[] {
    const fromSecrets = refs.flatMap((r) => r.env.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: r.objectName, key } } })));
    const allPlain = Object.assign({}, plain, ...refs.map((r) => r.plainEnv)) as Record<string, string>;
    const values = Object.entries(allPlain).map(([name, value]) => ({ name, value }));
    return [...values, ...fromSecrets].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The mode of delivered files: 0400 (root only) for a container that runs as
 * root; 0440 for one that runs as a non-root user, whose group is the pod's
 * fsGroup (the kubelet gives the files to that group). Never world-readable.
 */
export const FILE_MODE = 0o400;
export const GROUP_FILE_MODE = 0o440;

export function fileMode(service: Pick<ServiceSpec, "runAs">): number {
    return service.runAs ? GROUP_FILE_MODE : FILE_MODE;
}

/** The pod's security context for a service that declares its user and group. */
export function podSecurityContext(service: Pick<ServiceSpec, "runAs">): k8s.types.input.core.v1.PodSecurityContext | undefined {
    const r = service.runAs;
    return r ? { runAsNonRoot: true, runAsUser: r.user, runAsGroup: r.group, fsGroup: r.group } : undefined;
}

/** One projected volume per directory, one source per Secret object, every file at `mode`. */
export function fileVolumes(
    refs: SecretRef[],
    mode: number = FILE_MODE,
): {
    volumes: k8s.types.input.core.v1.Volume[];
    mounts: k8s.types.input.core.v1.VolumeMount[];
} {
    const dirs = [...new Set(refs.flatMap((r) => r.files.map((f) => dirOf(f.path))))].sort();
    const volumes = dirs.map((dir) => ({
        name: volumeName(dir),
        projected: {
            defaultMode: mode,
            sources: refs
                .filter((r) => r.files.some((f) => dirOf(f.path) === dir))
                .map((r) => ({
                    secret: {
                        name: r.objectName,
                        items: r.files
                            .filter((f) => dirOf(f.path) === dir)
                            .map((f) => ({ key: f.key, path: f.path.slice(dir.length + 1), mode })),
                    },
                })),
        },
    }));
    const mounts = dirs.map((dir) => ({ name: volumeName(dir), mountPath: dir, readOnly: true }));
    return { volumes, mounts };
}

function annotations(a: Record<string, string>): Record<string, string> | undefined {
    return Object.keys(a).length > 0 ? a : undefined;
}

function dirOf(path: string): string {
    return path.slice(0, path.lastIndexOf("/"));
}

function volumeName(dir: string): string {
    return dir.replace(/^\//, "").replace(/[^a-z0-9]+/g, "-");
}

/**
 * The workload's arguments, the same for each kind: a Deployment, a
 * StatefulSet (its serviceName is the service's own name) or a DaemonSet (no
 * replicas: one pod per node).
 */
export function workloadArgs(
    args: TitanWorkloadArgs,
): k8s.apps.v1.DeploymentArgs & k8s.apps.v1.StatefulSetArgs & k8s.apps.v1.DaemonSetArgs {
    const { service, consumesAnnotation, stagesAnnotation } = args.plan;
    const labels = { app: service.name, ...MANAGED_BY };
    const { volumes, mounts } = fileVolumes(args.secretRefs, fileMode(service));
    return {
        metadata: {
            name: service.name,
            namespace: args.namespace,
            labels,
            // Stages change without changing what a pod holds (overlap g2 and
            // stable g2 look the same to a presenter): kept off the template.
            annotations: annotations({
                ...(stagesAnnotation ? { [ANNOTATION_STAGES]: stagesAnnotation } : {}),
                ...(args.rollout ? SKIP_AWAIT : {}),
            }),
        },
        spec: {
            ...(service.workload === "DaemonSet" ? {} : { replicas: service.replicas }),
            ...(service.workload === "StatefulSet" ? { serviceName: service.name } : {}),
            selector: { matchLabels: { app: service.name } },
            template: {
                metadata: {
                    labels,
                    annotations: consumesAnnotation ? { [ANNOTATION_CONSUMES]: consumesAnnotation } : undefined,
                },
                spec: {
                    securityContext: podSecurityContext(service),
                    containers: [
                        {
                            name: service.name,
                            image: service.image,
                            args: service.args,
                            env: containerEnv(service.env, args.secretRefs),
                            ports: service.port ? [{ containerPort: service.port }] : undefined,
                            volumeMounts: mounts.length > 0 ? mounts : undefined,
                        },
                    ],
                    volumes: volumes.length > 0 ? volumes : undefined,
                },
            },
        },
    };
}

/** The field manager of the program's server-side applies to workloads it does not own. */
export const FIELD_MANAGER = "titan-secrets";

/**
 * A patch of a workload owned elsewhere: only the rotation's fields (the
 * pod-template annotation, the container's environment references, the
 * projected volume and its mounts), applied server-side under the program's
 * own field manager without force, so a field another manager owns is a
 * conflict the up reports instead of taking it. Destroying the patch removes
 * only these fields.
 */
export function patchArgs(
    args: TitanWorkloadArgs,
): k8s.apps.v1.DeploymentPatchArgs & k8s.apps.v1.StatefulSetPatchArgs & k8s.apps.v1.DaemonSetPatchArgs {
    const { service, consumesAnnotation, stagesAnnotation } = args.plan;
    const target = service.ownedElsewhere!;
    const { volumes, mounts } = fileVolumes(args.secretRefs, fileMode(service));
    const env = containerEnv({}, args.secretRefs);
    return {
        metadata: {
            name: target.name,
            namespace: args.namespace,
            annotations: {
                "pulumi.com/patchFieldManager": FIELD_MANAGER,
                ...(stagesAnnotation ? { [ANNOTATION_STAGES]: stagesAnnotation } : {}),
                ...(args.rollout ? SKIP_AWAIT : {}),
            },
        },
        spec: {
            template: {
                metadata: { annotations: consumesAnnotation ? { [ANNOTATION_CONSUMES]: consumesAnnotation } : undefined },
                spec: {
                    containers: [
                        {
                            name: target.container ?? target.name,
                            env: env.length > 0 ? env : undefined,
                            volumeMounts: mounts.length > 0 ? mounts : undefined,
                        },
                    ],
                    volumes: volumes.length > 0 ? volumes : undefined,
                },
            },
        },
    };
}

/** What a changed workload was rolling for, as the failure message names it: "titan-hmac (verifier: g2+g1)". */
export function rollingFor(plan: WorkloadPlan): string {
    const changed = plan.consumes.filter((c) => c.changed);
    return (
        changed.map((c) => `${c.secret} (${c.role}: ${c.view.generations.map((g) => `g${g}`).join("+")})`).join(", ") || "its own change"
    );
}

type Workload =
    | k8s.apps.v1.Deployment
    | k8s.apps.v1.StatefulSet
    | k8s.apps.v1.DaemonSet
    | k8s.apps.v1.DeploymentPatch
    | k8s.apps.v1.StatefulSetPatch
    | k8s.apps.v1.DaemonSetPatch;

/** The resource for a service: the workload it owns, or a patch of the one another tool owns. */
function declareWorkload(name: string, args: TitanWorkloadArgs, options: pulumi.CustomResourceOptions): Workload {
    const service = args.plan.service;
    if (service.ownedElsewhere) {
        const patch = patchArgs(args);
        switch (service.ownedElsewhere.kind) {
            case "StatefulSet":
                return new k8s.apps.v1.StatefulSetPatch(name, patch, options);
            case "DaemonSet":
                return new k8s.apps.v1.DaemonSetPatch(name, patch, options);
            default:
                return new k8s.apps.v1.DeploymentPatch(name, patch, options);
        }
    }
    switch (service.workload) {
        case "StatefulSet":
            return new k8s.apps.v1.StatefulSet(name, workloadArgs(args), options);
        case "DaemonSet":
            return new k8s.apps.v1.DaemonSet(name, workloadArgs(args), options);
        default:
            return new k8s.apps.v1.Deployment(name, workloadArgs(args), options);
    }
}

/** The kind of object a service's workload is, on the server. */
export function workloadKind(service: ServiceSpec): (typeof WORKLOAD_KINDS)[number] {
    return service.ownedElsewhere?.kind ?? service.workload;
}

export class TitanWorkload extends pulumi.ComponentResource {
    /** The Deployment, StatefulSet or DaemonSet (the service's `workload`). */
    readonly workload: Workload;
    /**
     * The workload once its roll-out has finished: what every ordering edge
     * depends on. A workload whose pods do not change in this up, and any
     * workload while rendering or previewing, is ready at once.
     */
    readonly ready: pulumi.Input<pulumi.Resource>;

    constructor(name: string, args: TitanWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("titan-secrets:workload:TitanWorkload", name, {}, opts);
        const workload = declareWorkload(name, args, { parent: this, provider: args.provider, dependsOn: args.waitFor });
        const kind = workloadKind(args.plan.service);
        this.workload = workload;
        const wait = args.rollout;
        this.ready =
            wait && args.plan.changed
                ? workload.metadata.apply(async (m) => {
                      if (!pulumi.runtime.isDryRun()) {
                          await wait(
                              { apiVersion: "apps/v1", kind, namespace: m.namespace, name: m.name, generation: m.generation },
                              rollingFor(args.plan),
                          );
                      }
                      return workload as pulumi.Resource;
                  })
                : workload;
        this.registerOutputs({});
    }
}
