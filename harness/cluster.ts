// The local control plane for the live suites (scripts/cluster.sh), and a
// namespace of its own per suite. The cluster is started on first use if
// `.ci/run` (or a person) has not started it, and then stopped by the
// global teardown (test/live/teardown.ts), by pid, even when a test fails.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { REPO } from "./stackFiles";

const run = promisify(execFile);

export const CLUSTER_SCRIPT = join(REPO, "scripts", "cluster.sh");
export const KUBECTL = join(REPO, ".engine", "bin", "kubectl");

/**
 * Marks a cluster that a test started, with the pid of the vitest run
 * (the workers' parent), so that this run's teardown stops it and no other.
 */
export const STARTED_BY_TESTS = "started-by-tests";

export interface Cluster {
    name: string;
    dir: string;
    kubeconfig: string;
    context: string;
}

export function clusterDir(name: string): string {
    return join(process.env.CLUSTER_DIR ?? join(REPO, ".cluster"), name);
}

/** Why the live suites cannot run here, if they cannot. */
export function clusterMissing(): string | undefined {
    for (const bin of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"]) {
        if (!existsSync(join(REPO, ".engine", "bin", bin)))
            return `.engine/bin/${bin} is missing: run bash scripts/setup.sh (it builds the control plane from Go modules)`;
    }
    return undefined;
}

/** The real node's name, label and taint (scripts/cluster.sh --real-node). */
export const REAL_NODE = "real-node-0";
export const REAL_NODE_SELECTOR = { type: "real" };
export const REAL_NODE_TOLERATION = { key: "titan.local/real-node", operator: "Equal", value: "true", effect: "NoSchedule" };

/** Why a real node (kubelet, containerd, runc, CNI plugins) cannot run here, if it cannot. */
export function realNodeMissing(): string | undefined {
    if (!existsSync(join(REPO, ".engine", "bin", "kubelet")))
        return ".engine/bin/kubelet is missing: run bash scripts/build-cluster.sh (or bash scripts/setup.sh)";
    if (process.getuid?.() !== 0) return "the real node needs root (containerd and the kubelet mount, make cgroups and network namespaces)";
    const need = ["/usr/bin/containerd", "/usr/bin/ctr", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/bin/busybox"];
    const absent = need.filter((f) => !existsSync(f));
    if (!["/usr/sbin/runc", "/usr/bin/runc"].some((f) => existsSync(f))) absent.push("runc");
    if (absent.length > 0)
        return `missing ${absent.join(", ")}: apt-get install containerd runc containernetworking-plugins busybox-static (bash scripts/setup.sh)`;
    return undefined;
}

/**
 * Starts the named cluster unless it runs already (cluster.sh up is safe to
 * re-run and takes a lock); with realNode, also its real node (up
 * --real-node starts only what does not run yet).
 */
export async function ensureCluster(
    name = process.env.TITAN_TEST_CLUSTER ?? "test",
    options: { realNode?: boolean } = {},
): Promise<Cluster> {
    const dir = clusterDir(name);
    const running = await run("bash", [CLUSTER_SCRIPT, "--name", name, "status"]).then(
        () => true,
        () => false,
    );
    if (!running) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, STARTED_BY_TESTS), `${process.ppid}\n`);
    }
    if (!running || options.realNode) {
        const flags = options.realNode ? ["--real-node"] : [];
        await run("bash", [CLUSTER_SCRIPT, "--name", name, ...flags, "up"], { timeout: 600_000 });
    }
    return { name, dir, kubeconfig: join(dir, "kubeconfig"), context: `titan-${name}` };
}

export async function clusterCommand(cluster: Cluster, ...args: string[]): Promise<string> {
    const r = await run("bash", [CLUSTER_SCRIPT, "--name", cluster.name, ...args], { timeout: 120_000 });
    return r.stdout;
}

export async function kubectl(cluster: Cluster, ...args: string[]): Promise<string> {
    const r = await run(KUBECTL, ["--kubeconfig", cluster.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return r.stdout;
}

export async function kubeConfig(cluster: Cluster): Promise<KubeConfig> {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    return kc;
}

/** A fresh namespace, ready for pods (its default ServiceAccount exists). */
export async function createNamespace(cluster: Cluster, prefix: string): Promise<string> {
    const ns = `${prefix}-${Date.now().toString(36)}`;
    await kubectl(cluster, "create", "namespace", ns);
    for (let i = 0; i < 300; i++) {
        const sa = await kubectl(cluster, "-n", ns, "get", "serviceaccount", "default", "--ignore-not-found", "-o", "name");
        if (sa.trim() !== "") return ns;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`namespace ${ns}: the default ServiceAccount did not appear`);
}

export async function deleteNamespace(cluster: Cluster, ns: string): Promise<void> {
    await kubectl(cluster, "delete", "namespace", ns, "--wait=false", "--ignore-not-found").catch(() => undefined);
}
