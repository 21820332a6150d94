// The policy pack through the real engine (.engine/bin/pulumi, v3.248.0):
// `pulumi preview --policy-pack` on a copy of the dev stack. Our engine's
// Node.js language host cannot start policy packs, so the pack runs through
// policy/local (runtime `titan-node`) and its launcher
// policy/local/pulumi-analyzer-policy-titan-node, found in the plugin cache
// or on PATH: exactly what `bash policy/preview.sh` does.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2EProject } from "../harness/engine";
import { policyMissing, previewWithPolicy, usePolicyPack } from "../harness/policy";
import { stackConfig } from "../harness/stackFiles";

const VERIFIERS = ["titan-execution-rs", "titan-sentinel"];

function config(generation: number, stage: string): Record<string, unknown> {
    const all = stackConfig("dev").all;
    return {
        ...all,
        "titan-secrets:secrets": { "titan-hmac": { kind: "hmac", generation, stage, verifiers: VERIFIERS, presenters: ["titan-brain"] } },
    };
}

/** Moves the `ledger` output's key creation times back by `days`, as if the last up were that old. */
async function ageLedger(project: E2EProject, days: number): Promise<void> {
    const state = await project.stack.exportStack();
    const stack = (state.deployment.resources as any[]).find((r) => r.type === "pulumi:pulumi:Stack");
    const shift = (iso: string) => new Date(Date.parse(iso) - days * 86_400_000).toISOString();
    for (const entry of Object.values(stack.outputs.ledger as Record<string, any>)) {
        entry.stageAppliedAt = shift(entry.stageAppliedAt);
        entry.dueAt = shift(entry.dueAt);
        for (const k of entry.keys) k.createdAt = shift(k.createdAt);
    }
    await project.stack.importStack(state);
}

describe("the policy pack through the real engine", { timeout: 600_000 }, () => {
    let project: E2EProject;

    beforeAll(async () => {
        const why = policyMissing();
        if (why) throw new Error(why);
        project = await E2EProject.create("dev", config(1, "stable"));
        usePolicyPack(project.dir);
        const up = await project.up();
        if (up.error) throw new Error(`up at stable g1 failed: ${up.output}`);
    }, 300_000);
    afterAll(() => project?.destroy());

    it("passes a fresh stack, and fails it (secret-max-age) once its key is 100 days old", async () => {
        const fresh = await previewWithPolicy(project);
        expect(fresh.error, fresh.output).toBeUndefined();
        expect(fresh.output).toContain("titan-secrets@v0.1.0");
        expect(fresh.violations.filter((v) => v.level === "mandatory")).toEqual([]);

        await ageLedger(project, 100);
        const old = await previewWithPolicy(project);
        expect(old.error).toBeDefined();
        expect(old.violations).toContainEqual(expect.objectContaining({ policy: "secret-max-age", level: "mandatory" }));
        const message = old.violations.find((v) => v.policy === "secret-max-age")!.message;
        expect(message).toMatch(/^titan-hmac is overdue for rotation: its key titan-hmac-g1 \(generation 1\) was created .*, 100 days ago/);
        expect(message).toContain("npm run rotate -- advance titan-hmac --stack dev");
    });

    it("passes the overdue secret's rotation: overlap g2, with the program's roll-out edges", async () => {
        project.setConfig("secrets", config(2, "overlap")["titan-secrets:secrets"]);
        const overlap = await previewWithPolicy(project);
        expect(overlap.error, overlap.output).toBeUndefined();
        expect(overlap.violations.filter((v) => v.level === "mandatory")).toEqual([]);
    });

    it("fails (overlap-roll-out-order) a program whose presenter Deployment does not wait for the verifiers", async () => {
        // A copy of the program with the Deployments' dependsOn dropped.
        const file = join(project.dir, "components", "titanWorkload.ts");
        const source = readFileSync(file, "utf8");
        const patched = source.replace("dependsOn: args.waitFor", "dependsOn: []");
        expect(patched, "components/titanWorkload.ts no longer passes dependsOn: args.waitFor; update this test").not.toBe(source);
        writeFileSync(file, patched);
        try {
            const run = await previewWithPolicy(project);
            expect(run.error).toBeDefined();
            const order = run.violations.filter((v) => v.policy === "overlap-roll-out-order");
            expect(order.map((v) => v.resource)).toEqual(["titan-brain", "titan-brain"]);
            expect(order.map((v) => v.message.replace(/ \(verifier.*/, "")).sort()).toEqual(
                VERIFIERS.map(
                    (v) => `titan-brain (presenter of titan-hmac, overlap at generation 2) rolls to g2 without depending on ${v}`,
                ),
            );
        } finally {
            writeFileSync(file, source);
        }
    });

    // key-material-is-secret cannot fire through this engine: the kubernetes
    // provider (4.25) marks a Secret object's data and stringData secret in
    // its Check, before the analyzer sees them, whatever the program passes.
    // (Last: its up applies the overlap the tests above only preview.)
    // Proven here with a program that strips the secretness on purpose: the
    // probe ran (no "did not run" finding), saw every entry as secret, and the
    // state after an up holds no key value in plain text. The rule itself is
    // tested on plain props in test/policy.test.ts.
    it("a program that strips the Secret objects' secretness still stores them secret: the provider marks them, the probe sees it", async () => {
        const file = join(project.dir, "components", "titanSecrets.ts");
        const source = readFileSync(file, "utf8");
        const patched = source.replace(
            "stringData: this.materials.get(p.spec.name)!.dataFor(role),",
            "stringData: pulumi.unsecret(pulumi.output(this.materials.get(p.spec.name)!.dataFor(role))),",
        );
        expect(patched, "components/titanSecrets.ts no longer sets stringData from dataFor(role); update this test").not.toBe(source);
        writeFileSync(file, patched);
        try {
            const run = await previewWithPolicy(project);
            expect(run.error, run.output).toBeUndefined();
            expect(run.violations.filter((v) => v.policy === "key-material-is-secret")).toEqual([]);
            expect(run.output).toMatch(/titan-hmac-verifiers.*\n?.*rendered YAML will contain a secret value in plaintext/);
            const up = await project.up();
            expect(up.error, up.output).toBeUndefined();
            const state = await project.exportState();
            const keys = [...(await project.keyValues()).values()];
            expect(keys.length).toBeGreaterThan(0);
            for (const k of keys) expect(state.includes(k), "a key value in the state's plain text").toBe(false);
        } finally {
            writeFileSync(file, source);
        }
    });
});
