// StatefulSets and DaemonSets as consumers: a service's `workload` picks the
// kind; the order (the barrier through the presenters' Secret object), the
// pod template and what restarts are the same as for a Deployment.

import { describe, expect, it } from "vitest";
import { Ledger } from "../model";
import { plainKeyMaterialFindings } from "../policy/rules";
import { hmac, titanConfig } from "./support/fleet";
import { ProgramRun, T, byType, one, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);

const SERVICES = {
    "titan-brain": { image: "ghcr.io/titan/brain:1.0.0", replicas: 2 },
    "titan-execution-rs": { image: "ghcr.io/titan/execution-rs:1.0.0", workload: "StatefulSet", replicas: 3 },
    "titan-sentinel": { image: "ghcr.io/titan/sentinel:1.0.0", workload: "DaemonSet" },
    "titan-ai-quant": { image: "ghcr.io/titan/ai-quant:1.0.0" },
};

async function sequence(steps: [Record<string, unknown>, Date][], services: Record<string, unknown> = SERVICES): Promise<ProgramRun[]> {
    const runs: ProgramRun[] = [];
    let ledger: Ledger = {};
    for (const [secret, now] of steps) {
        const run = await runProgram(titanConfig({ "hmac-main": secret }, services), ledger, now);
        if (run.error) throw run.error;
        ledger = run.outputs!.ledger;
        runs.push(run);
    }
    return runs;
}

describe("StatefulSet and DaemonSet consumers", () => {
    it("each service gets the kind it declares, with the same pod template a Deployment would have", async () => {
        const [run] = await sequence([[hmac(1, "stable"), T0]]);
        expect(
            byType(run, T.deployment)
                .map((r) => r.name)
                .sort(),
        ).toEqual(["titan-ai-quant", "titan-brain"]);
        const sts = one(run, T.statefulSet, "titan-execution-rs").inputs;
        expect(sts.spec).toMatchObject({
            replicas: 3,
            serviceName: "titan-execution-rs",
            selector: { matchLabels: { app: "titan-execution-rs" } },
        });
        const ds = one(run, T.daemonSet, "titan-sentinel").inputs;
        expect(ds.spec.replicas).toBeUndefined();
        expect(ds.metadata.annotations["pulumi.com/skipAwait"]).toBeUndefined(); // rendering: nothing waits
        // The same template as the same service as a Deployment.
        const [asDeployments] = await sequence([[hmac(1, "stable"), T0]], {
            ...SERVICES,
            "titan-execution-rs": { image: "ghcr.io/titan/execution-rs:1.0.0", replicas: 3 },
            "titan-sentinel": { image: "ghcr.io/titan/sentinel:1.0.0" },
        });
        expect(sts.spec.template).toEqual(one(asDeployments, T.deployment, "titan-execution-rs").inputs.spec.template);
        expect(ds.spec.template).toEqual(one(asDeployments, T.deployment, "titan-sentinel").inputs.spec.template);
    });

    it("overlap: the presenters' Secret object waits for the StatefulSet and the DaemonSet; both roll, the presenter after", async () => {
        const [stable1, overlap] = await sequence([
            [hmac(1, "stable"), T0],
            [hmac(2, "overlap"), at(1)],
        ]);
        expect(one(overlap, T.secret, "hmac-main-presenters").dependsOn.sort()).toEqual(["titan-execution-rs", "titan-sentinel"]);
        expect(one(overlap, T.statefulSet, "titan-execution-rs").dependsOn).toEqual(["hmac-main-verifiers"]);
        expect(one(overlap, T.daemonSet, "titan-sentinel").dependsOn).toEqual(["hmac-main-verifiers"]);
        expect(one(overlap, T.deployment, "titan-brain").dependsOn).toEqual(["hmac-main-presenters"]);
        expect(overlap.plan!.waves).toEqual([["titan-execution-rs", "titan-sentinel"], ["titan-brain"]]);
        const template = (r: ProgramRun, type: string, name: string) => JSON.stringify(one(r, type, name).inputs.spec.template);
        expect(template(stable1, T.statefulSet, "titan-execution-rs")).not.toBe(template(overlap, T.statefulSet, "titan-execution-rs"));
        expect(template(stable1, T.daemonSet, "titan-sentinel")).not.toBe(template(overlap, T.daemonSet, "titan-sentinel"));
    });

    it("replicas on a DaemonSet is refused with the key", async () => {
        const run = await runProgram(
            titanConfig(
                { "hmac-main": hmac(1, "stable") },
                { ...SERVICES, "titan-sentinel": { image: "x", workload: "DaemonSet", replicas: 2 } },
            ),
            {},
            T0,
        );
        expect(run.error?.message).toContain(
            "titan-secrets:services.titan-sentinel.replicas: found 2 on a DaemonSet; allowed: no replicas: a DaemonSet runs one pod per node",
        );
        const bad = await runProgram(
            titanConfig({ "hmac-main": hmac(1, "stable") }, { ...SERVICES, "titan-sentinel": { image: "x", workload: "Job" } }),
            {},
            T0,
        );
        expect(bad.error?.message).toMatch(/titan-secrets:services\.titan-sentinel\.workload: found "Job"/);
    });

    it("the policy pack checks a StatefulSet's env as it checks a Deployment's", () => {
        const props = {
            spec: {
                template: { spec: { containers: [{ env: [{ name: "REDIS_PASSWORD", value: "c2VjcmV0LXBhc3N3b3JkLTAxMjM0NTY3ODk=" }] }] } },
            },
        };
        expect(plainKeyMaterialFindings("kubernetes:apps/v1:StatefulSet", "titan-redis", props).map((f) => f.message)).toEqual([
            expect.stringMatching(/^StatefulSet titan-redis: container env REDIS_PASSWORD has a plain value that looks like a credential/),
        ]);
    });
});

describe("workloads owned elsewhere", () => {
    const ELSEWHERE = {
        ...SERVICES,
        "titan-execution-rs": { ownedElsewhere: { kind: "StatefulSet", name: "execution", container: "engine" } },
        "titan-brain": { ownedElsewhere: { kind: "Deployment", name: "brain", container: "brain" } },
    };

    it("get a server-side-apply patch of only the rotation's fields, under the program's field manager, never forced", async () => {
        const [stable1, overlap] = await sequence(
            [
                [hmac(1, "stable"), T0],
                [hmac(2, "overlap"), at(1)],
            ],
            ELSEWHERE,
        );
        expect(
            byType(stable1, T.deployment)
                .map((r) => r.name)
                .sort(),
        ).toEqual(["titan-ai-quant"]);
        const brain = one(overlap, T.deploymentPatch, "titan-brain").inputs;
        expect(brain.metadata.name).toBe("brain");
        expect(brain.metadata.annotations["pulumi.com/patchFieldManager"]).toBe("titan-secrets");
        expect(brain.metadata.annotations["pulumi.com/patchForce"]).toBeUndefined();
        // Nothing of the owner's: no image, replicas, selector, labels.
        expect(Object.keys(brain.spec)).toEqual(["template"]);
        expect(brain.metadata.labels).toBeUndefined();
        expect(Object.keys(brain.spec.template.spec.containers[0]).sort()).toEqual(["env", "name"]);
        expect(brain.spec.template.spec.containers[0].name).toBe("brain");
        expect(brain.spec.template.metadata.annotations["titan-secrets.io/consumes"]).toMatch(/hmac-main/);
        const exec = one(overlap, T.statefulSetPatch, "titan-execution-rs").inputs;
        expect(exec.metadata.name).toBe("execution");
        expect(exec.spec.template.spec.containers[0].name).toBe("engine");
        // The same order as owned workloads: the barrier through the presenters' Secret object.
        expect(one(overlap, T.secret, "hmac-main-presenters").dependsOn.sort()).toEqual(["titan-execution-rs", "titan-sentinel"]);
        expect(one(overlap, T.deploymentPatch, "titan-brain").dependsOn).toEqual(["hmac-main-presenters"]);
        expect(overlap.plan!.waves).toEqual([["titan-execution-rs", "titan-sentinel"], ["titan-brain"]]);
        // The pod-template fields change with the generation, so the owner's pods roll.
        expect(JSON.stringify(one(stable1, T.deploymentPatch, "titan-brain").inputs.spec.template)).not.toBe(
            JSON.stringify(brain.spec.template),
        );
    });

    it("the owner's fields are refused on such a service, and an owned service needs its image", async () => {
        const run = await runProgram(
            titanConfig(
                { "hmac-main": hmac(1, "stable") },
                {
                    ...ELSEWHERE,
                    "titan-brain": { ownedElsewhere: { kind: "Deployment", name: "brain", container: "brain" }, image: "x", replicas: 3 },
                },
            ),
            {},
            T0,
        );
        expect(run.error?.message).toContain(
            'titan-secrets:services.titan-brain.image: found "x" on a service whose workload is owned elsewhere (Deployment brain); allowed: no image: the workload\'s owner declares it',
        );
        expect(run.error?.message).toContain(
            "titan-secrets:services.titan-brain.replicas: found 3 on a service whose workload is owned elsewhere",
        );
        const noImage = await runProgram(
            titanConfig({ "hmac-main": hmac(1, "stable") }, { ...SERVICES, "titan-brain": { replicas: 2 } }),
            {},
            T0,
        );
        expect(noImage.error?.message).toContain("titan-secrets:services.titan-brain.image: found nothing; allowed: the container image");
    });
});
