// The one Kubernetes provider every object goes through. The stacks also set
// `pulumi:disable-default-providers: [kubernetes]`, so an object created
// without it fails instead of reaching whatever cluster kubeconfig names.

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubernetesSpec } from "../model";

export function kubernetesProvider(spec: KubernetesSpec, opts?: pulumi.CustomResourceOptions): k8s.Provider {
    if (spec.renderDir !== undefined) {
        void pulumi.log.warn(
            `kubernetes.renderDir is set: manifests are rendered to ${spec.renderDir} instead of applied to a cluster. ` +
                `Rendered Secret manifests hold key material in plaintext (files are mode 0600); keep that folder out of version control and off shared disks.`,
        );
        return new k8s.Provider("render", { renderYamlToDirectory: spec.renderDir }, opts);
    }
    return new k8s.Provider("cluster", { kubeconfig: spec.kubeconfig, context: spec.context }, opts);
}
