// A real node in the local control plane (scripts/cluster.sh --real-node):
// containerd, runc and the kubelet beside kwok's fake node, tainted so that
// only pods that ask for it land there. A pod of the busybox image built
// here (scripts/build-images.sh) mounts a Secret as a projected volume
// (mode 0440, fsGroup) and runs as a non-root uid: the container itself
// reads the file, says what it saw (the file's mode and group, its own ids,
// a hash of the content: never the value), becomes Ready only after that,
// and serves it over HTTP on its pod IP, which the host reaches. Then down
// must leave nothing running, and the kernel settings as they were.

import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    CLUSTER_SCRIPT,
    Cluster,
    KUBECTL,
    REAL_NODE,
    REAL_NODE_SELECTOR,
    REAL_NODE_TOLERATION,
    clusterCommand,
    clusterMissing,
    createNamespace,
    ensureCluster,
    kubectl,
    realNodeMissing,
} from "../../harness/cluster";

const run = promisify(execFile);
const missing = clusterMissing() ?? realNodeMissing();
const NAME = "realnode";
const USER = 10001;
const GROUP = 10002;
const FS_GROUP = 10003;
const MOUNT = "/run/secrets/titan";
/** The kernel settings the kubelet changes at start, which down puts back. */
const SYSCTLS = ["vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys"];
const sysctls = () => SYSCTLS.map((k) => `${k}=${readFileSync(`/proc/sys/${k}`, "utf8").trim()}`);

/** What the container runs: read the key as itself, report, then be Ready and serve. */
const SCRIPT = [
    `f=${MOUNT}/hmac-key`,
    `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"`,
    `echo "file=$(stat -L -c '%a %u %g' $f)"`,
    `echo "sha256=$(sha256sum < $f | cut -d' ' -f1)" || exit 1`,
    `mkdir -p /tmp/www && echo "uid=$(id -u) sha256=$(sha256sum < $f | cut -d' ' -f1)" > /tmp/www/index.html`,
    `touch /tmp/ready`,
    `exec httpd -f -p 8080 -h /tmp/www`,
].join("\n");

function readerPod(name: string, tolerate: boolean): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, labels: { app: name } },
        spec: {
            nodeSelector: REAL_NODE_SELECTOR,
            tolerations: tolerate ? [REAL_NODE_TOLERATION] : [],
            automountServiceAccountToken: false,
            dnsPolicy: "Default",
            terminationGracePeriodSeconds: 2,
            securityContext: { runAsUser: USER, runAsGroup: GROUP, fsGroup: FS_GROUP, runAsNonRoot: true },
            containers: [
                {
                    name: "reader",
                    image: "titan.local/busybox:1",
                    imagePullPolicy: "Never",
                    command: ["sh", "-c", SCRIPT],
                    ports: [{ containerPort: 8080 }],
                    volumeMounts: [{ name: "secrets", mountPath: MOUNT, readOnly: true }],
                    readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1 },
                },
            ],
            volumes: [
                {
                    name: "secrets",
                    projected: {
                        defaultMode: 0o440,
                        sources: [{ secret: { name: "titan-hmac", items: [{ key: "hmac-key", path: "hmac-key" }] } }],
                    },
                },
            ],
        },
    });
}

/** kubectl with `input` on its stdin (a manifest, or a secret value: never on a command line). */
async function kubectlIn(cluster: Cluster, input: string, ...args: string[]): Promise<void> {
    const child = execFile(KUBECTL, ["--kubeconfig", cluster.kubeconfig, ...args]);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.stdin!.end(input);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (code !== 0) throw new Error(`kubectl ${args.slice(0, 3).join(" ")} exited ${code}: ${stderr}`);
}

async function pod(cluster: Cluster, ns: string, name: string): Promise<any> {
    return JSON.parse(await kubectl(cluster, "-n", ns, "get", "pod", name, "-o", "json"));
}

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const got = await probe().catch(() => undefined);
        if (got !== undefined) return got;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds}s`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

describe("a real node beside kwok's: a container reads a mounted Secret as a non-root uid", { timeout: 600_000 }, () => {
    let cluster: Cluster;
    let ns: string;
    const secret = randomBytes(32).toString("hex");
    const digest = createHash("sha256").update(secret).digest("hex");
    const pids: number[] = [];
    let hostSysctls: string[] = [];

    beforeAll(async () => {
        if (missing) throw new Error(missing);
        const started = Date.now();
        hostSysctls = sysctls();
        cluster = await ensureCluster(NAME, { realNode: true });
        console.log(`[realnode] cluster with a real node up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        for (const c of ["containerd", "kubelet"]) pids.push(Number(readFileSync(join(cluster.dir, "pids", `${c}.pid`), "utf8")));
        ns = await createNamespace(cluster, "realnode");
        const manifest = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "titan-hmac" },
            data: { "hmac-key": Buffer.from(secret).toString("base64") },
        };
        await kubectlIn(cluster, JSON.stringify(manifest), "-n", ns, "apply", "-f", "-");
    }, 600_000);

    afterAll(async () => {
        if (cluster) await clusterCommand(cluster, "down").catch(() => undefined);
    });

    it("registers the node beside kwok's, Ready, tainted, the same version as the API server, on containerd", async () => {
        const nodes = JSON.parse(await kubectl(cluster, "get", "nodes", "-o", "json")).items as any[];
        expect(nodes.map((n) => n.metadata.name).sort()).toEqual(["kwok-node-0", REAL_NODE]);
        const node = nodes.find((n) => n.metadata.name === REAL_NODE);
        expect(node.metadata.annotations?.["kwok.x-k8s.io/node"], "kwok does not manage it").toBeUndefined();
        expect(node.metadata.labels.type).toBe("real");
        expect(node.spec.taints).toContainEqual({ key: REAL_NODE_TOLERATION.key, value: "true", effect: "NoSchedule" });
        expect(node.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
        const version = JSON.parse(await kubectl(cluster, "version", "-o", "json")).serverVersion.gitVersion;
        expect(node.status.nodeInfo.kubeletVersion).toBe(version);
        expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    });

    it("keeps a pod that does not tolerate the taint off the node", async () => {
        await kubectlIn(cluster, readerPod("untolerated", false), "-n", ns, "apply", "-f", "-");
        const unscheduled = await until("the scheduler's verdict", 60, async () => {
            const p = await pod(cluster, ns, "untolerated");
            const c = (p.status.conditions ?? []).find((x: any) => x.type === "PodScheduled");
            return c && c.status === "False" ? c : undefined;
        });
        expect(unscheduled.reason).toBe("Unschedulable");
        expect(unscheduled.message).toContain("untolerated taint");
        await kubectl(cluster, "-n", ns, "delete", "pod", "untolerated", "--wait=false");
    });

    it("runs the reader as uid 10001: it reads the 0440 file through fsGroup, is Ready after, and answers on its pod IP", async () => {
        const started = Date.now();
        await kubectlIn(cluster, readerPod("reader", true), "-n", ns, "apply", "-f", "-");
        const ready = await until("pod reader Ready", 180, async () => {
            const p = await pod(cluster, ns, "reader");
            const c = (p.status.conditions ?? []).find((x: any) => x.type === "Ready");
            return c?.status === "True" ? p : undefined;
        });
        console.log(
            `[realnode] pod Ready in ${((Date.now() - started) / 1000).toFixed(1)}s on ${ready.spec.nodeName}, IP ${ready.status.podIP}`,
        );
        expect(ready.spec.nodeName).toBe(REAL_NODE);
        expect(ready.status.containerStatuses[0].imageID).toMatch(/^sha256:|@sha256:/);

        // The container's own log: what it saw before it became Ready.
        const log = await kubectl(cluster, "-n", ns, "logs", "reader");
        expect(log).not.toContain(secret);
        expect(log).toContain(`uid=${USER} gid=${GROUP} groups=${GROUP} ${FS_GROUP}`);
        expect(log).toContain(`file=440 0 ${FS_GROUP}`);
        expect(log).toContain(`sha256=${digest}`);

        // And now, through the API server and the kubelet (exec).
        const exec = await kubectl(
            cluster,
            "-n",
            ns,
            "exec",
            "reader",
            "--",
            "sh",
            "-c",
            `id -u; stat -L -c '%a %g' ${MOUNT}/hmac-key; sha256sum < ${MOUNT}/hmac-key`,
        );
        expect(exec.split("\n").slice(0, 3)).toEqual([String(USER), `440 ${FS_GROUP}`, `${digest}  -`]);

        // The pod's IP, from the host (the node's bridge).
        const ip = ready.status.podIP as string;
        expect(ip).toMatch(/^10\.88\.\d+\.\d+$/);
        const body = await (await fetch(`http://${ip}:8080/index.html`)).text();
        expect(body.trim()).toBe(`uid=${USER} sha256=${digest}`);
    });

    it("down stops the kubelet, containerd and every container, leaves no mount, bridge or cgroup behind, and puts back the kernel settings the kubelet changed", async () => {
        const env = readFileSync(join(cluster.dir, "node.env"), "utf8");
        const net = /POD_NET=(\d+)/.exec(env)![1];
        const sock = join(cluster.dir, "node", "containerd.sock");
        await run("bash", [CLUSTER_SCRIPT, "--name", cluster.name, "down"], { timeout: 180_000 });
        for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
        const { stdout: ps } = await run("ps", ["-eo", "pid,args"]);
        expect(ps.split("\n").filter((l) => l.includes(sock))).toEqual([]);
        const mounts = readFileSync("/proc/self/mountinfo", "utf8");
        expect(mounts.split("\n").filter((l) => l.includes(cluster.dir + "/"))).toEqual([]);
        expect(existsSync(`/sys/class/net/titan${net}`), "the bridge").toBe(false);
        expect(sysctls(), "the kernel settings the kubelet changed").toEqual(hostSysctls);
        expect(existsSync(`/sys/fs/cgroup/memory/titan-${NAME}`) || existsSync(`/sys/fs/cgroup/titan-${NAME}`), "the cgroup").toBe(false);
    });
});
