// Exchange API keys under mocks: two exchanges through a whole rotation,
// the verification Job after the presenters, the refusal of stable without
// a successful verification, revocation as a manual step, the
// PrometheusRule, and the bad configs of this kind.

import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Ledger, presenceInStackFile } from "../model";
import { EngineText } from "../harness/mockConfig";
import { ProgramRun, RunOptions, T, byType, isWireSecret, one, reveal, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);

/** Planted key material, distinctive so the leak search can find it. */
const KEY = (secret: string, g: number) => ({ apiKey: `AK-${secret}-${g}-7f3a9c2e`, apiSecret: `AS-${secret}-${g}-b81d44e0c9` });

const SERVICES = {
    "titan-execution-rs": { image: "exec:1" },
    "titan-ai-quant": { image: "quant:1" },
    "titan-brain": { image: "brain:1" },
};

const VERIFY = {
    image: "ghcr.io/titan-trading/titan-execution-rs:2.3.0",
    command: ["titan-execution", "lab-order", "--min-size"],
    env: { LAB_MODE: "true" },
};

function apiKey(exchange: string, generation: number, stage: string, extra: Record<string, unknown> = {}) {
    return {
        kind: "apiKey",
        exchange,
        generation,
        stage,
        verifiers: [],
        presenters: ["titan-execution-rs", "titan-ai-quant"],
        verification: VERIFY,
        ...extra,
    };
}

function keysFor(points: Record<string, number[]>) {
    return Object.fromEntries(Object.entries(points).map(([s, gens]) => [s, Object.fromEntries(gens.map((g) => [`g${g}`, KEY(s, g)]))]));
}

function config(secrets: Record<string, unknown>, keys: Record<string, number[]>, extra: Record<string, unknown> = {}) {
    return { kubernetes: { renderDir: "rendered" }, services: SERVICES, secrets, exchangeKeys: keysFor(keys), ...extra };
}

async function sequence(steps: [Record<string, unknown>, Record<string, number[]>, Date, RunOptions?][]): Promise<ProgramRun[]> {
    const runs: ProgramRun[] = [];
    let ledger: Ledger = {};
    for (const [secrets, keys, now, options] of steps) {
        const run = await runProgram(
            config(secrets, keys, { monitoring: { prometheusRule: true, labels: { release: "kube-prometheus" } } }),
            ledger,
            now,
            false,
            options,
        );
        if (run.error) throw run.error;
        ledger = run.outputs!.ledger;
        runs.push(run);
    }
    return runs;
}

const JOB = "kubernetes:batch/v1:Job";
const files = (run: ProgramRun, secret: string) => reveal(one(run, T.secret, `${secret}-presenters`).inputs.stringData);

describe("two exchanges through a rotation", () => {
    const both = (bybit: [number, string], mexc: [number, string], extraBybit: Record<string, unknown> = {}) => ({
        "bybit-main": apiKey("bybit", bybit[0], bybit[1], extraBybit),
        "mexc-main": apiKey("mexc", mexc[0], mexc[1]),
    });

    it("overlap: presenters get the new key as files, then the verification Job runs with it", async () => {
        const [, overlap] = await sequence([
            [both([1, "stable"], [1, "stable"]), { "bybit-main": [1], "mexc-main": [1] }, T0],
            [both([2, "overlap"], [1, "stable"]), { "bybit-main": [1, 2], "mexc-main": [1] }, at(1)],
        ]);
        expect(files(overlap, "bybit-main")).toEqual({
            bybit_api_key: KEY("bybit-main", 2).apiKey,
            bybit_api_secret: KEY("bybit-main", 2).apiSecret,
        });
        expect(files(overlap, "mexc-main")).toEqual({
            mexc_api_key: KEY("mexc-main", 1).apiKey,
            mexc_api_secret: KEY("mexc-main", 1).apiSecret,
        });
        expect(isWireSecret(one(overlap, T.secret, "bybit-main-presenters").inputs.stringData)).toBe(true);
        const exec = one(overlap, T.deployment, "titan-execution-rs").inputs.spec.template.spec.containers[0];
        expect(exec.env).toEqual(
            expect.arrayContaining([
                { name: "BYBIT_API_KEY_FILE", value: "/run/secrets/bybit_api_key" },
                { name: "MEXC_API_SECRET_FILE", value: "/run/secrets/mexc_api_secret" },
            ]),
        );

        const job = one(overlap, JOB, "verify-bybit-main");
        expect(job.dependsOn.sort()).toEqual(["bybit-main-presenters", "titan-ai-quant", "titan-execution-rs"]);
        expect(job.inputs.metadata.name).toBe("verify-bybit-main-g2");
        const container = job.inputs.spec.template.spec.containers[0];
        expect(container).toMatchObject({ image: VERIFY.image, command: VERIFY.command });
        expect(container.env).toEqual([
            { name: "BYBIT_API_KEY_FILE", value: "/run/secrets/bybit_api_key" },
            { name: "BYBIT_API_SECRET_FILE", value: "/run/secrets/bybit_api_secret" },
            { name: "LAB_MODE", value: "true" },
        ]);
        expect(job.inputs.spec.template.spec.volumes[0].projected.sources[0].secret.name).toBe("bybit-main-presenters-g2");
        expect(job.inputs.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
        expect(byType(overlap, JOB).map((j) => j.name)).toEqual(["verify-bybit-main"]); // mexc is not rotating
    });

    it("stable is refused until the verification succeeded, then the old key becomes a manual revocation", async () => {
        const keys = { "bybit-main": [1, 2], "mexc-main": [1] };
        const [, failed] = await sequence([
            [both([1, "stable"], [1, "stable"]), { "bybit-main": [1], "mexc-main": [1] }, T0],
            [both([2, "overlap"], [1, "stable"]), keys, at(1)],
        ]);
        expect(failed.outputs!.ledger["bybit-main"].verified).toBeUndefined();
        const refused = await runProgram(config(both([2, "stable"], [1, "stable"]), keys), failed.outputs!.ledger, at(30));
        expect(refused.error?.message).toContain(
            "titan-secrets:secrets.bybit-main.stage: found stable at generation 2, but the verification of generation 2 has not succeeded (the ledger records none)",
        );
        expect(refused.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);

        const [, verified, stable, recorded] = await sequence([
            [both([1, "stable"], [1, "stable"]), { "bybit-main": [1], "mexc-main": [1] }, T0],
            [both([2, "overlap"], [1, "stable"]), keys, at(1), { jobsSucceed: true }],
            [both([2, "stable"], [1, "stable"]), { "bybit-main": [2], "mexc-main": [1] }, at(30)],
            [both([2, "stable"], [1, "stable"], { revoked: [1] }), { "bybit-main": [2], "mexc-main": [1] }, at(31)],
        ]);
        expect(verified.outputs!.ledger["bybit-main"].verified).toEqual({ generation: 2, at: at(1).toISOString() });
        expect(stable.outputs!.ledger["bybit-main"].pendingRevocations).toEqual([{ generation: 1, keyId: "bybit-main-g1" }]);
        expect(stable.logs.join("\n")).toContain(
            "MANUAL STEP bybit-main: revoke generation 1 (key ID bybit-main-g1) at bybit; it is still valid there. Then record it: pulumi config set --path 'secrets.bybit-main.revoked[0]' 1",
        );
        expect(files(stable, "bybit-main").bybit_api_key).toBe(KEY("bybit-main", 2).apiKey);
        expect(recorded.outputs!.ledger["bybit-main"].pendingRevocations).toBeUndefined();
        expect(recorded.logs.join("\n")).not.toContain("MANUAL STEP");
    });

    it("compromised drops the old key from every presenter and store at once, loudly", async () => {
        const [, c] = await sequence([
            [both([1, "stable"], [1, "stable"]), { "bybit-main": [1], "mexc-main": [1] }, T0],
            [both([2, "compromised"], [1, "stable"], { incident: "INC-77" }), { "bybit-main": [2], "mexc-main": [1] }, at(1)],
        ]);
        expect(c.logs.join("\n")).toMatch(
            /COMPROMISED bybit-main \(incident INC-77\): generation 1 is dropped .* REVOKE generation 1 AT BYBIT NOW/,
        );
        expect(files(c, "bybit-main").bybit_api_key).toBe(KEY("bybit-main", 2).apiKey);
        expect(byType(c, JOB)).toEqual([]);
        expect(c.outputs!.ledger["bybit-main"].pendingRevocations).toEqual([{ generation: 1, keyId: "bybit-main-g1" }]);
    });

    it("the PrometheusRule alerts on auth_failures, labelled with each rotating secret and its stage", async () => {
        const [stable, overlap] = await sequence([
            [both([1, "stable"], [1, "stable"]), { "bybit-main": [1], "mexc-main": [1] }, T0],
            [both([2, "overlap"], [1, "stable"]), { "bybit-main": [1, 2], "mexc-main": [1] }, at(1)],
        ]);
        const rule = (r: ProgramRun) => one(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "rotation-alerts").inputs;
        expect(rule(stable).spec.groups[0].rules).toEqual([]);
        expect(rule(overlap).metadata.labels).toMatchObject({ release: "kube-prometheus" });
        expect(rule(overlap).spec.groups[0].rules).toEqual([
            {
                alert: "TitanAuthFailuresDuringRotation",
                expr: 'sum(increase(auth_failures{secret="bybit-main"}[5m])) > 0',
                for: "2m",
                labels: { severity: "warning", secret: "bybit-main", stage: "overlap", generation: "2", kind: "apiKey" },
                annotations: {
                    summary: "auth_failures rising while bybit-main is in overlap at generation 2",
                    description:
                        "Check the presenters of bybit-main (titan-execution-rs, titan-ai-quant) and its verifiers; to go back, set stage revert.",
                },
            },
        ]);
    });

    it("no API key or secret appears in outputs, logs or errors", async () => {
        const runs = await sequence([
            [both([1, "stable"], [1, "stable"]), { "bybit-main": [1], "mexc-main": [1] }, T0],
            [both([2, "overlap"], [1, "stable"]), { "bybit-main": [1, 2], "mexc-main": [1] }, at(1), { jobsSucceed: true }],
            [both([2, "stable"], [1, "stable"]), { "bybit-main": [2], "mexc-main": [1] }, at(30)],
        ]);
        const missing = await runProgram(
            config(both([3, "overlap"], [1, "stable"]), { "bybit-main": [2], "mexc-main": [1] }),
            runs[2].outputs!.ledger,
            at(40),
        );
        const haystack = JSON.stringify([...runs, missing].map((r) => [r.outputs, r.logs, r.error?.message]));
        expect(haystack).toContain("bybit-main-g2");
        for (const s of ["bybit-main", "mexc-main"]) {
            for (const g of [1, 2]) for (const v of Object.values(KEY(s, g))) expect(haystack.includes(v), `${s} g${g}`).toBe(false);
        }
    });
});

describe("bad API key config", () => {
    const run = (secrets: Record<string, unknown>, keys: Record<string, number[]>, options: RunOptions = {}) =>
        runProgram(config(secrets, keys), {}, T0, false, options);

    it("a missing key for a declared generation names the config key and the command", async () => {
        const r = await run({ "bybit-main": apiKey("bybit", 2, "overlap") }, { "bybit-main": [1] });
        expect(r.error?.message).toContain(
            "titan-secrets:exchangeKeys.bybit-main.g2.apiKey: found nothing; allowed: the API key of generation 2, created on bybit, as a secret. Fix: pulumi config set --secret --path 'exchangeKeys.bybit-main.g2.apiKey' <value>",
        );
        // Only the read of the last ledger (checked with the keys, in one admission); nothing declared.
        expect(r.resources.filter((x) => x.type !== "pulumi:pulumi:StackReference")).toEqual([]);
    });

    it("keys stored in plain text are refused", async () => {
        const r = await run({ "bybit-main": apiKey("bybit", 1, "stable") }, { "bybit-main": [1] }, { secretKeys: [] });
        expect(r.error?.message).toContain(
            "titan-secrets:exchangeKeys: found API keys stored in plain text in the stack file; allowed: secure values only",
        );
    });

    it("in a stack file, one plain-text leaf beside secure ones is plain text (Pulumi calls the whole key secret)", () => {
        const secure = { secure: "v1:AAAA:BBBB" };
        const mixed = { "bybit-main": { g1: { apiKey: secure, apiSecret: "pasted-without-secret" } } };
        expect(presenceInStackFile(mixed)).toEqual({
            present: new Set(["bybit-main/g1/apiKey", "bybit-main/g1/apiSecret"]),
            storedAsSecret: false,
        });
        expect(presenceInStackFile({ "bybit-main": { g1: { apiKey: secure, apiSecret: secure } } }).storedAsSecret).toBe(true);
        expect(presenceInStackFile({ "bybit-main": { g1: { apiKey: secure, apiSecret: "" } } }).storedAsSecret).toBe(true); // set to nothing: missing, not plain
    });

    it("exchangeKeys set as one value, not JSON (without --path), is refused naming the key, never printing the value (the SDK's own error does)", async () => {
        const value = "sk-live-0123456789abcdef";
        for (const [key, raw] of [
            ["exchangeKeys", { exchangeKeys: new EngineText(value) }],
            ["kubernetes", { kubernetes: new EngineText(`token: ${value}`) }],
        ] as const) {
            const r = await runProgram(
                { ...config({ "bybit-main": apiKey("bybit", 1, "stable") }, { "bybit-main": [1] }), ...raw },
                {},
                T0,
            );
            expect(r.error?.message).toContain(
                `titan-secrets:${key}: found a value that is not JSON (a single value where the program reads a map or a list)`,
            );
            expect(JSON.stringify([r.error?.message, r.error?.stack, r.logs])).not.toContain(value);
            expect(r.resources.filter((x) => x.type !== "pulumi:pulumi:StackReference")).toEqual([]);
        }
    });

    it("without the SDK's isConfigSecret (it is internal) the program refuses instead of trusting the keys", async () => {
        const runtime = pulumi.runtime as unknown as { isConfigSecret?: unknown };
        const original = runtime.isConfigSecret;
        delete runtime.isConfigSecret;
        try {
            const r = await run({ "bybit-main": apiKey("bybit", 1, "stable") }, { "bybit-main": [1] }, { secretKeys: [] });
            expect(r.error?.message).toMatch(
                /^Cannot tell whether titan-secrets:exchangeKeys is stored as a secret: @pulumi\/pulumi's runtime.isConfigSecret is missing/,
            );
            expect(r.resources.filter((x) => x.type !== "pulumi:pulumi:StackReference")).toEqual([]);
        } finally {
            runtime.isConfigSecret = original;
        }
    });

    it("an unknown exchange service", async () => {
        const r = await run({ "bybit-main": apiKey("bybit", 1, "stable", { presenters: ["titan-execution"] }) }, { "bybit-main": [1] });
        expect(r.error?.message).toContain(
            'titan-secrets:secrets.bybit-main.presenters[0]: found "titan-execution", which is not a declared service (did you mean "titan-execution-rs"?)',
        );
    });

    it("verification without an image", async () => {
        const r = await run({ "bybit-main": apiKey("bybit", 1, "stable", { verification: { command: ["x"] } }) }, { "bybit-main": [1] });
        expect(r.error?.message).toContain(
            "titan-secrets:secrets.bybit-main.verification.image: found nothing; allowed: image of the Job that proves a new key works.",
        );
    });

    it("revoked names a generation that was made and dropped, once: not one past generation + 1 (it would hide that key's reminder)", async () => {
        const r = await run({ "bybit-main": apiKey("bybit", 2, "stable", { revoked: [1, 3, 1, 4] }) }, { "bybit-main": [2] });
        expect(r.error?.message).toContain(
            "titan-secrets:secrets.bybit-main.revoked[3]: found generation 4, which does not exist yet (generation is 2); allowed: generations that were made and dropped: at most 3 (the one a revert drops)",
        );
        expect(r.error?.message).toContain(
            "titan-secrets:secrets.bybit-main.revoked[2]: found generation 1 twice; allowed: each generation at most once.",
        );
        expect(r.error?.message).toMatch(/\(2 problems\)/); // 3, dropped by a revert from overlap 3, is accepted
    });

    it("an API key without an exchange, with verifiers, or revoking a live key", async () => {
        const noExchange = await run({ "bybit-main": { ...apiKey("bybit", 2, "overlap"), exchange: undefined } }, { "bybit-main": [1, 2] });
        expect(noExchange.error?.message).toContain(
            "titan-secrets:secrets.bybit-main.exchange: found nothing; allowed: the exchange the key belongs to",
        );
        const r = await run(
            { "bybit-main": apiKey("bybit", 2, "overlap", { verifiers: ["titan-brain"], revoked: [1] }) },
            { "bybit-main": [1, 2] },
        );
        expect(r.error?.message).toContain('titan-secrets:secrets.bybit-main.verifiers: found "titan-brain" for an API key');
        expect(r.error?.message).toContain(
            "titan-secrets:secrets.bybit-main.revoked: found generation 1, which is still live (overlap at generation 2)",
        );
    });
});
