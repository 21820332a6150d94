// The live suites' checkers, on hand-made server records: each must find
// the fault it exists to find (a negative control), and pass a correct
// roll-out. No cluster needed.

import { describe, expect, it } from "vitest";
import { availableRv, newReplicaSets, podRollout, podsOutlivingTheirSecrets, safetyViolations } from "../../harness/evidence";
import type { ServerEvent, Summary } from "../../harness/serverLog";

let rv = 100;
function ev(kind: ServerEvent["kind"], type: ServerEvent["type"], obj: Partial<Summary> & { name: string }): ServerEvent {
    return { rv: rv++, at: 0, type, kind, obj: { uid: obj.name, labels: {}, annotations: {}, ...obj } };
}
const secret = (name: string, s: string, role: string, gens: string) =>
    ev("Secret", "ADDED", {
        name,
        labels: { "titan-secrets.io/secret": s, "titan-secrets.io/role": role },
        annotations: { "titan-secrets.io/generations": gens },
    });
const pod = (type: ServerEvent["type"], name: string, refs: string[]) => ev("Pod", type, { name, secretRefs: refs });

function objects(): ServerEvent[] {
    return [
        secret("h-verifiers-g1", "h", "verifier", "1"),
        secret("h-verifiers-g2-g1", "h", "verifier", "2,1"),
        secret("h-presenters-g1", "h", "presenter", "1"),
        secret("h-presenters-g2", "h", "presenter", "2"),
    ];
}

describe("the safety replay", () => {
    it("passes an overlap in order: verifiers replaced first, then the presenter", () => {
        const events = [
            ...objects(),
            pod("ADDED", "v-old", ["h-verifiers-g1"]),
            pod("ADDED", "p-old", ["h-presenters-g1"]),
            pod("ADDED", "v-new", ["h-verifiers-g2-g1"]),
            pod("DELETED", "v-old", ["h-verifiers-g1"]),
            pod("ADDED", "p-new", ["h-presenters-g2"]),
            pod("DELETED", "p-old", ["h-presenters-g1"]),
        ];
        expect(safetyViolations(events)).toEqual([]);
    });

    it("finds a presenter holding g2 while an old verifier pod still runs (presenters first)", () => {
        const events = [
            ...objects(),
            pod("ADDED", "v-old", ["h-verifiers-g1"]),
            pod("ADDED", "p-new", ["h-presenters-g2"]),
            pod("ADDED", "v-new", ["h-verifiers-g2-g1"]),
        ];
        expect(safetyViolations(events)).toEqual([
            expect.objectContaining({ secret: "h", presenterPod: "p-new", presents: 2, verifierPod: "v-old", accepts: [1] }),
        ]);
    });
});

describe("Secret objects and the pods that read them", () => {
    it("finds a pod still reading an object that was deleted", () => {
        const events = [
            ...objects(),
            pod("ADDED", "p-old", ["h-presenters-g1"]),
            ev("Secret", "DELETED", { name: "h-presenters-g1" }),
            pod("DELETED", "p-old", ["h-presenters-g1"]),
        ];
        expect(podsOutlivingTheirSecrets(events)).toEqual([{ pod: "p-old", secret: "h-presenters-g1" }]);
    });

    it("accepts a deletion after the last reader is gone", () => {
        const events = [
            ...objects(),
            pod("ADDED", "p-old", ["h-presenters-g1"]),
            pod("DELETED", "p-old", ["h-presenters-g1"]),
            ev("Secret", "DELETED", { name: "h-presenters-g1" }),
        ];
        expect(podsOutlivingTheirSecrets(events)).toEqual([]);
    });
});

describe("ReplicaSets", () => {
    it("counts created (not listed) ReplicaSets and finds when one became fully available", () => {
        const listed = ev("ReplicaSet", "LISTED", { name: "a-1", owner: "a", replicas: 3, status: { replicas: 3, availableReplicas: 3 } });
        const created = ev("ReplicaSet", "ADDED", { name: "a-2", owner: "a", replicas: 1, status: { replicas: 0 } });
        const partly = ev("ReplicaSet", "MODIFIED", {
            name: "a-2",
            owner: "a",
            replicas: 3,
            status: { replicas: 3, availableReplicas: 2 },
        });
        const full = ev("ReplicaSet", "MODIFIED", { name: "a-2", owner: "a", replicas: 3, status: { replicas: 3, availableReplicas: 3 } });
        const events = [listed, created, partly, full];
        expect(newReplicaSets(events, 0).map((r) => r.name)).toEqual(["a-2"]);
        expect(availableRv(events, "a-2", 3)).toBe(full.rv);
        expect(availableRv(events, "a-2", 4)).toBeUndefined();
    });
});

describe("a roll-out through pods (any workload kind)", () => {
    const p = (type: ServerEvent["type"], name: string, refs: string[], ready = false) =>
        ev("Pod", type, { name, secretRefs: refs, labels: { app: "sts" }, ready });

    it("is done once every pod reads the new object, is Ready, and no old pod is left", () => {
        const events = [
            p("ADDED", "sts-0", ["old"], true),
            p("ADDED", "sts-1", ["old"], true),
            p("DELETED", "sts-1", ["old"], true),
            p("ADDED", "sts-1", ["new"]),
            p("MODIFIED", "sts-1", ["new"], true),
            p("MODIFIED", "sts-0", ["old"], true), // terminating: still live
            p("DELETED", "sts-0", ["old"], true),
            p("ADDED", "sts-0", ["new"]),
            p("MODIFIED", "sts-0", ["new"], true),
        ];
        const r = podRollout(events, "sts", "new", 2);
        expect(r.firstNewRv).toBe(events[3].rv);
        expect(r.doneRv).toBe(events[8].rv);
    });

    it("negative controls: not done while an old pod runs, a new pod is not Ready, or another app's pods are counted", () => {
        const events = [
            p("ADDED", "sts-0", ["old"], true),
            p("ADDED", "sts-1", ["new"], true),
            ev("Pod", "ADDED", { name: "other-0", secretRefs: ["new"], labels: { app: "other" }, ready: true }),
        ];
        expect(podRollout(events, "sts", "new", 2).doneRv).toBeUndefined();
        expect(podRollout([p("ADDED", "sts-0", ["new"], false)], "sts", "new", 1).doneRv).toBeUndefined();
        expect(podRollout(events, "sts", "new", 1).doneRv).toBeUndefined();
    });
});
