// The roll-out rules the program's wait applies to what the API server
// returns (kubectl rollout status's rules, plus the generation our apply
// produced). The live suite shows them against a real control plane; these
// pin each rule, including the stale object that fooled the provider.

import { describe, expect, it } from "vitest";
import { WorkloadObject, rolloutState } from "../model";

function deployment(generation: number, status: NonNullable<WorkloadObject["status"]>, replicas = 3): WorkloadObject {
    return { kind: "Deployment", metadata: { name: "titan-sentinel", generation }, spec: { replicas }, status };
}

const rolled = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3 };

describe("Deployment roll-out state", () => {
    it("is done when the controller observed the generation and every replica is updated and available, none old", () => {
        expect(rolloutState(deployment(2, rolled), 2)).toEqual({ state: "done" });
    });

    it("waits on the object the provider accepted: generation 2, observedGeneration 1, the old ReplicaSet's full counts", () => {
        const stale = deployment(2, { ...rolled, observedGeneration: 1 });
        expect(rolloutState(stale, 2)).toMatchObject({
            state: "waiting",
            progress: expect.stringMatching(/not observed generation 2 yet \(observed 1\)/),
        });
    });

    it("waits when the server returns an older object than our apply produced (minGeneration above metadata.generation)", () => {
        const older = deployment(1, { ...rolled, observedGeneration: 1 });
        expect(rolloutState(older, 2)).toMatchObject({ state: "waiting", progress: expect.stringMatching(/generation 2/) });
    });

    it("waits for a freshly created Deployment that has no status yet", () => {
        expect(rolloutState(deployment(1, {}), 1)).toMatchObject({ state: "waiting" });
    });

    it("waits while new replicas are being created, old ones still run, or updated ones are not yet available", () => {
        expect(rolloutState(deployment(2, { ...rolled, updatedReplicas: 1 }), 2)).toMatchObject({
            progress: "1 of 3 new replicas have been updated",
        });
        expect(rolloutState(deployment(2, { ...rolled, replicas: 4 }), 2)).toMatchObject({
            progress: "1 old replica(s) are pending termination",
        });
        expect(rolloutState(deployment(2, { ...rolled, availableReplicas: 2 }), 2)).toMatchObject({
            progress: "2 of 3 updated replicas are available",
        });
    });

    it("fails when the controller reports ProgressDeadlineExceeded", () => {
        const stuck = deployment(2, {
            ...rolled,
            updatedReplicas: 1,
            conditions: [
                {
                    type: "Progressing",
                    status: "False",
                    reason: "ProgressDeadlineExceeded",
                    message: "ReplicaSet has timed out progressing.",
                },
            ],
        });
        expect(rolloutState(stuck, 2)).toEqual({
            state: "failed",
            reason: "it exceeded its progress deadline (ReplicaSet has timed out progressing.)",
        });
    });

    it("counts replicas from spec (default 1), so 0 of 1 available is not done", () => {
        const one: WorkloadObject = {
            kind: "Deployment",
            metadata: { generation: 3 },
            spec: {},
            status: { observedGeneration: 3, replicas: 1, updatedReplicas: 1, availableReplicas: 0 },
        };
        expect(rolloutState(one, 3)).toMatchObject({ state: "waiting" });
    });
});

describe("old pods that still run", () => {
    const pod = (name: string, terminating = false) => ({
        metadata: { name, deletionTimestamp: terminating ? "2026-11-25T22:00:00Z" : undefined },
    });

    it("keep a Deployment that kubectl calls rolled out waiting while one of them terminates", () => {
        expect(rolloutState(deployment(2, rolled), 2, [pod("a"), pod("b"), pod("c"), pod("old", true)])).toEqual({
            state: "waiting",
            progress: "1 old pod(s) are still terminating",
        });
    });

    it("and while more pods than replicas match its selector", () => {
        expect(rolloutState(deployment(2, rolled), 2, [pod("a"), pod("b"), pod("c"), pod("d")])).toEqual({
            state: "waiting",
            progress: "1 old pod(s) are still running",
        });
    });

    it("are not looked at before the controller is done", () => {
        expect(rolloutState(deployment(2, { ...rolled, observedGeneration: 1 }), 2, [pod("a"), pod("b"), pod("c")])).toMatchObject({
            state: "waiting",
            progress: expect.stringMatching(/observed/),
        });
        expect(rolloutState(deployment(2, rolled), 2, [pod("a"), pod("b"), pod("c")])).toEqual({ state: "done" });
    });
});

describe("StatefulSet and DaemonSet roll-out state", () => {
    const sts = (status: NonNullable<WorkloadObject["status"]>, strategy?: string): WorkloadObject => ({
        kind: "StatefulSet",
        metadata: { generation: 2 },
        spec: { replicas: 2, updateStrategy: strategy ? { type: strategy } : undefined },
        status,
    });

    it("a StatefulSet is done when every pod is ready at the update revision", () => {
        expect(
            rolloutState(
                sts({ observedGeneration: 2, readyReplicas: 2, updatedReplicas: 2, currentRevision: "r2", updateRevision: "r2" }),
                2,
            ),
        ).toEqual({ state: "done" });
        expect(
            rolloutState(
                sts({ observedGeneration: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: "r1", updateRevision: "r2" }),
                2,
            ),
        ).toMatchObject({ state: "waiting" });
        expect(
            rolloutState(sts({ observedGeneration: 1, readyReplicas: 2, currentRevision: "r1", updateRevision: "r1" }), 2),
        ).toMatchObject({ state: "waiting" });
    });

    it("a StatefulSet with OnDelete never rolls by itself: refused, not waited on", () => {
        expect(rolloutState(sts({ observedGeneration: 2, readyReplicas: 2 }, "OnDelete"), 2)).toMatchObject({ state: "failed" });
    });

    it("a DaemonSet is done when every scheduled pod is updated and available", () => {
        const ds = (updated: number, available: number): WorkloadObject => ({
            kind: "DaemonSet",
            metadata: { generation: 4 },
            status: { observedGeneration: 4, desiredNumberScheduled: 3, updatedNumberScheduled: updated, numberAvailable: available },
        });
        expect(rolloutState(ds(3, 3), 4)).toEqual({ state: "done" });
        expect(rolloutState(ds(2, 3), 4)).toMatchObject({ state: "waiting" });
        expect(rolloutState(ds(3, 2), 4)).toMatchObject({ state: "waiting" });
    });
});
