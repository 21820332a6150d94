// The program under Pulumi's mocks, stage by stage through a full rotation:
// which keys exist, which Secret objects each Deployment reads, whose pod
// template changes, the recorded dependency edges, and secretness.

import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../model";
import { hmac, titanConfig } from "./support/fleet";
import { ProgramRun, T, byType, generatedValues, isWireSecret, mockKeyHex, one, reveal, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const SERVICES = ["titan-ai-quant", "titan-brain", "titan-execution-rs", "titan-sentinel"];

/** Runs a sequence of stages, each with the ledger the previous one exported. */
async function rotate(steps: [Record<string, unknown>, Date][]): Promise<ProgramRun[]> {
    const runs: ProgramRun[] = [];
    let ledger: Ledger = {};
    for (const [secret, now] of steps) {
        const run = await runProgram(titanConfig({ "hmac-main": secret }), ledger, now);
        if (run.error) throw run.error;
        ledger = run.outputs!.ledger;
        runs.push(run);
    }
    return runs;
}

const keyNames = (run: ProgramRun) =>
    byType(run, T.randomPassword)
        .map((r) => r.name)
        .sort();
const template = (run: ProgramRun, svc: string) => one(run, T.deployment, svc).inputs.spec.template;
const secretData = (run: ProgramRun, role: string): Record<string, any> => {
    const inputs: Record<string, any> = one(run, T.secret, `hmac-main-${role}s`).inputs;
    return { ...inputs, stringData: reveal(inputs.stringData) };
};
const envRefs = (run: ProgramRun, svc: string) =>
    (template(run, svc).spec.containers[0].env as { name: string; valueFrom?: { secretKeyRef: { name: string } } }[])
        .filter((e) => e.valueFrom)
        .map((e) => `${e.name}<-${e.valueFrom!.secretKeyRef.name}`);
const rolled = (a: ProgramRun, b: ProgramRun) => SERVICES.filter((s) => JSON.stringify(template(a, s)) !== JSON.stringify(template(b, s)));

describe("a full rotation: stable g1 -> overlap g2 -> stable g2", () => {
    let stable1: ProgramRun, overlap: ProgramRun, stable2: ProgramRun;
    beforeAll(async () => {
        [stable1, overlap, stable2] = await rotate([
            [hmac(1, "stable"), T0],
            [hmac(2, "overlap"), at(1)],
            [hmac(2, "stable"), at(30)],
        ]);
    });

    it("stable g1: one key, one Secret object per role, each Deployment reads its role's object", () => {
        expect(keyNames(stable1)).toEqual(["hmac-main-g1"]);
        expect(secretData(stable1, "verifier").metadata.name).toBe("hmac-main-verifiers-g1");
        expect(secretData(stable1, "verifier").stringData).toEqual({
            TITAN_HMAC_SECRET_PRIMARY: mockKeyHex("hmac-main-g1"),
            TITAN_HMAC_KEY_ID: "hmac-main-g1",
        });
        expect(secretData(stable1, "presenter").stringData).toEqual({
            TITAN_HMAC_SECRET_PRIMARY: mockKeyHex("hmac-main-g1"),
            TITAN_HMAC_KEY_ID: "hmac-main-g1",
        });
        expect(envRefs(stable1, "titan-brain")).toEqual([
            "TITAN_HMAC_KEY_ID<-hmac-main-presenters-g1",
            "TITAN_HMAC_SECRET_PRIMARY<-hmac-main-presenters-g1",
        ]);
        expect(envRefs(stable1, "titan-sentinel")).toEqual([
            "TITAN_HMAC_KEY_ID<-hmac-main-verifiers-g1",
            "TITAN_HMAC_SECRET_PRIMARY<-hmac-main-verifiers-g1",
        ]);
        expect(envRefs(stable1, "titan-ai-quant")).toEqual([]);
        expect(template(stable1, "titan-brain").metadata.annotations).toEqual({ "titan-secrets.io/consumes": "hmac-main=presenter:g1" });
        expect(one(stable1, T.deployment, "titan-brain").inputs.metadata.annotations).toEqual({
            "titan-secrets.io/stages": "hmac-main=stable@g1",
        });
        expect(one(stable1, T.deployment, "titan-execution-rs").inputs.spec).toMatchObject({ replicas: 2 });
    });

    it("overlap g2: verifiers hold g2 and g1, presenters only g2; g1's key is the same resource", () => {
        expect(keyNames(overlap)).toEqual(["hmac-main-g1", "hmac-main-g2"]);
        expect(secretData(overlap, "verifier").metadata.name).toBe("hmac-main-verifiers-g2-g1");
        expect(secretData(overlap, "verifier").stringData).toEqual({
            TITAN_HMAC_SECRET_PRIMARY: mockKeyHex("hmac-main-g2"),
            TITAN_HMAC_KEY_ID: "hmac-main-g2",
            TITAN_HMAC_SECRET_SECONDARY: mockKeyHex("hmac-main-g1"),
            TITAN_HMAC_KEY_ID_SECONDARY: "hmac-main-g1",
        });
        expect(secretData(overlap, "presenter").metadata.name).toBe("hmac-main-presenters-g2");
        expect(Object.keys(secretData(overlap, "presenter").stringData).sort()).toEqual(["TITAN_HMAC_KEY_ID", "TITAN_HMAC_SECRET_PRIMARY"]);
        expect(envRefs(overlap, "titan-execution-rs")).toContain("TITAN_HMAC_SECRET_SECONDARY<-hmac-main-verifiers-g2-g1");
    });

    it("overlap g2: verifiers and presenters roll, the workload that consumes nothing does not", () => {
        expect(rolled(stable1, overlap)).toEqual(["titan-brain", "titan-execution-rs", "titan-sentinel"]);
    });

    it("overlap g2: the presenters' Secret object waits for every verifier Deployment, and the presenter Deployment for it (a barrier)", () => {
        expect(one(overlap, T.deployment, "titan-brain").dependsOn.sort()).toEqual(["hmac-main-presenters"]);
        expect(one(overlap, T.secret, "hmac-main-presenters").dependsOn.sort()).toEqual(["titan-execution-rs", "titan-sentinel"]);
        expect(one(overlap, T.deployment, "titan-sentinel").dependsOn).toEqual(["hmac-main-verifiers"]);
        expect(one(overlap, T.secret, "hmac-main-verifiers").dependsOn).toEqual([]);
        expect(overlap.plan!.waves).toEqual([["titan-execution-rs", "titan-sentinel"], ["titan-brain"]]);
    });

    it("stable g2: g1's key is gone, only the verifiers roll", () => {
        expect(keyNames(stable2)).toEqual(["hmac-main-g2"]);
        expect(secretData(stable2, "verifier").stringData).toEqual({
            TITAN_HMAC_SECRET_PRIMARY: mockKeyHex("hmac-main-g2"),
            TITAN_HMAC_KEY_ID: "hmac-main-g2",
        });
        expect(rolled(overlap, stable2)).toEqual(["titan-execution-rs", "titan-sentinel"]);
        expect(one(stable2, T.deployment, "titan-brain").dependsOn).toEqual(["hmac-main-presenters"]);
    });

    it("the ledger records each stage with key IDs and times, never a value", () => {
        expect(overlap.outputs!.ledger["hmac-main"]).toMatchObject({
            generation: 2,
            stage: "overlap",
            stageAppliedAt: at(1).toISOString(),
            presenterKeyId: "hmac-main-g2",
            verifierKeyIds: ["hmac-main-g2", "hmac-main-g1"],
        });
        expect(stable2.outputs!.ledger["hmac-main"]).toMatchObject({
            stage: "stable",
            stageAppliedAt: at(30).toISOString(),
            verifierKeyIds: ["hmac-main-g2"],
        });
    });

    it("every Kubernetes object goes through the one explicit provider, which renders to a folder", () => {
        const [provider] = byType(stable1, T.provider);
        expect(provider.inputs.renderYamlToDirectory).toBe("rendered");
        for (const r of stable1.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
            expect(r.provider, `${r.type} ${r.name}`).toMatch(/pulumi:providers:kubernetes::render::/);
        }
        expect(stable1.logs.join("\n")).toMatch(/kubernetes.renderDir is set: .*plaintext/);
    });

    it("Secret object data reaches the engine as a Pulumi secret (encrypted in state)", () => {
        for (const run of [stable1, overlap, stable2]) {
            for (const r of byType(run, T.secret)) expect(isWireSecret(r.inputs.stringData), r.name).toBe(true);
        }
    });

    it("keys are 64 hex characters from RandomPassword, whose ID is not the key", () => {
        for (const r of byType(overlap, T.randomPassword)) {
            expect(r.inputs).toEqual({ length: 64, lower: false, upper: false, numeric: true, special: true, overrideSpecial: "abcdef" });
        }
    });

    it("key material passed to resources is a Pulumi secret", async () => {
        for (const ring of [...stable1.keyRings, ...overlap.keyRings]) {
            for (const role of ["verifier", "presenter"] as const) {
                for (const [name, value] of Object.entries(ring.dataFor(role))) {
                    if (name.includes("_SECRET_")) expect(await pulumi.isSecret(value as pulumi.Output<string>), name).toBe(true);
                }
            }
        }
    });

    it("the preview log says what rolls in which wave", () => {
        expect(overlap.logs.join("\n")).toContain(
            "hmac-main: stable at generation 1 -> overlap at generation 2. Verifiers to g2+g1: titan-execution-rs (wave 1), titan-sentinel (wave 1). Presenters to g2: titan-brain (wave 2). Not restarted: titan-ai-quant.",
        );
    });

    it("re-running a stage changes nothing", async () => {
        const again = await runProgram(titanConfig({ "hmac-main": hmac(2, "stable") }), stable2.outputs!.ledger, at(31));
        expect(again.resources).toEqual(stable2.resources);
        expect(again.outputs!.ledger).toEqual(stable2.outputs!.ledger);
    });
});

describe("the way back: overlap g2 -> revert -> stable g1", () => {
    let stable1: ProgramRun, overlap: ProgramRun, revert: ProgramRun, back: ProgramRun;
    beforeAll(async () => {
        [stable1, overlap, revert, back] = await rotate([
            [hmac(1, "stable"), T0],
            [hmac(2, "overlap"), at(1)],
            [hmac(2, "revert"), at(2)],
            [hmac(1, "stable"), at(3)],
        ]);
    });

    it("revert: presenters go back to g1 first; verifiers keep both and do not roll", () => {
        expect(rolled(overlap, revert)).toEqual(["titan-brain"]);
        expect(secretData(revert, "presenter").metadata.name).toBe("hmac-main-presenters-g1");
        expect(secretData(revert, "presenter").stringData.TITAN_HMAC_SECRET_PRIMARY).toBe(mockKeyHex("hmac-main-g1"));
        expect(secretData(revert, "verifier")).toEqual(secretData(overlap, "verifier"));
        expect(keyNames(revert)).toEqual(["hmac-main-g1", "hmac-main-g2"]);
    });

    it("stable g1: g2 is dropped, the verifiers roll, g1 is the original key", () => {
        expect(keyNames(back)).toEqual(["hmac-main-g1"]);
        expect(rolled(revert, back)).toEqual(["titan-execution-rs", "titan-sentinel"]);
        expect(secretData(back, "verifier")).toEqual(secretData(stable1, "verifier"));
        expect(back.outputs!.ledger["hmac-main"].keys[0].createdAt).toBe(T0.toISOString());
    });

    it("a revert in which both sides change orders verifiers after presenters", async () => {
        const run = await runProgram(titanConfig({ "hmac-main": hmac(2, "revert") }), {}, T0);
        expect(one(run, T.deployment, "titan-sentinel").dependsOn.sort()).toEqual(["hmac-main-verifiers"]);
        expect(one(run, T.secret, "hmac-main-verifiers").dependsOn).toEqual(["titan-brain"]);
    });
});

describe("refusals declare nothing", () => {
    it("the overlap guard stops the program before any resource but the ledger read", async () => {
        const [, overlap] = await rotate([
            [hmac(1, "stable"), T0],
            [hmac(2, "overlap"), at(1)],
        ]);
        const run = await runProgram(titanConfig({ "hmac-main": hmac(2, "stable") }), overlap.outputs!.ledger, at(2));
        expect(run.error).toBeInstanceOf(pulumi.RunError);
        expect(run.error!.message).toMatch(
            /titan-secrets:secrets\.hmac-main\.stage: found stable at generation 2 only 1h 0m after overlap/,
        );
        expect(run.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
    });

    it("bad config stops the program before anything at all", async () => {
        const run = await runProgram(titanConfig({ "hmac-main": hmac(1, "stable", { presenters: ["nope"] }) }), {}, T0);
        expect(run.error).toBeInstanceOf(pulumi.RunError);
        expect(run.error!.message).toContain('titan-secrets:secrets.hmac-main.presenters[0]: found "nope"');
        expect(run.resources).toEqual([]);
    });

    it("installs the redaction of the SDK's RPC debug messages before anything is registered", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS module object the SDK runtime calls
        const log = require("@pulumi/pulumi/log") as { debug: { titanRedacted?: boolean } };
        const run = await runProgram(titanConfig({ "hmac-main": hmac(1, "stable") }), {}, T0);
        expect(run.error).toBeUndefined();
        expect(log.debug.titanRedacted).toBe(true);
    });

    it("a misspelt key of the project's namespace (secret: for secrets:) stops the program before anything", async () => {
        const { secrets, ...rest } = titanConfig({ "hmac-main": hmac(1, "stable") });
        const run = await runProgram({ ...rest, secret: secrets } as never, {}, T0);
        expect(run.error).toBeInstanceOf(pulumi.RunError);
        expect(run.error!.message).toContain(
            'titan-secrets:secret: found an unknown key (did you mean "secrets"?); allowed: the keys of titan-secrets: kubernetes, services, secrets, removeSecrets, exchangeKeys, stores, monitoring, aws, fleet, consumers.',
        );
        expect(run.resources).toEqual([]);
    });

    it("a compromised stage warns in the preview", async () => {
        const [, c] = await rotate([
            [hmac(1, "stable"), T0],
            [hmac(2, "compromised", { incident: "INC-42" }), at(1)],
        ]);
        expect(c.logs.join("\n")).toMatch(/warning: .*COMPROMISED hmac-main \(incident INC-42\)/);
        expect(keyNames(c)).toEqual(["hmac-main-g2"]);
        expect(one(c, T.deployment, "titan-brain").dependsOn).toEqual(["hmac-main-presenters"]);
    });
});

describe("no key value leaks", () => {
    it("appears in no stack output, log line or error message of any run", async () => {
        const runs = await rotate([
            [hmac(1, "stable"), T0],
            [hmac(2, "overlap"), at(1)],
            [hmac(2, "revert"), at(2)],
            [hmac(2, "overlap"), at(3)],
            [hmac(2, "stable"), at(40)],
            [hmac(3, "compromised", { incident: "INC-1" }), at(41)],
        ]);
        const refused = await runProgram(titanConfig({ "hmac-main": hmac(3, "stable") }), runs[1].outputs!.ledger, at(2));
        expect(refused.error).toBeDefined();
        const haystack = JSON.stringify([...runs, refused].map((r) => [r.outputs, r.logs, r.error?.message, r.error?.stack]));
        expect(generatedValues.size).toBeGreaterThanOrEqual(3);
        for (const value of generatedValues) expect(haystack.includes(value), "a generated key value leaked").toBe(false);
        // The haystack is not empty: it holds the key IDs the ledger should hold.
        expect(haystack).toContain("hmac-main-g3");
    });
});
