// A whole HMAC rotation through the real engine: pulumi up and preview with
// real state, real secret encryption, real dependency ordering, and the real
// kubernetes (render mode) and random providers, on a copy of the dev stack.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKLOAD_TYPES } from "../../model";
import { E2EProject, Step, engineMissing, plainSecret, stepLog } from "../../harness/engine";
import { stackConfig } from "../../harness/stackFiles";
import { redisLogin, startRedis } from "../support/servers";

const missing = engineMissing();
// Every kind of workload: titan-redis and titan-nats are StatefulSets.
const DEPLOYMENT = WORKLOAD_TYPES;
const VERIFIERS = ["titan-execution-rs", "titan-sentinel"];
const PRESENTER = "titan-brain";
const CHANGING_OPS = ["create", "update", "replace", "create-replacement", "delete-replaced", "delete"];

function devConfig(): Record<string, unknown> {
    return stackConfig("dev").all;
}

/** The dev stack's secrets, with titan-hmac at the given stage. */
function hmacAt(generation: number, stage: string, extra: Record<string, unknown> = {}) {
    const secrets = devConfig()["titan-secrets:secrets"] as Record<string, unknown>;
    return { ...secrets, "titan-hmac": { kind: "hmac", generation, stage, verifiers: VERIFIERS, presenters: [PRESENTER], ...extra } };
}

/** Index of the first event matching, or -1. */
function indexOf(log: [string, string, string][], name: string, phase: string): number {
    return log.findIndex(([n, op, p]) => n === name && p === phase && op !== "same");
}

/** Workloads whose Deployment had a step that changes something. */
function steppedDeployments(step: Step): string[] {
    return [
        ...new Set(
            stepLog(step.events, DEPLOYMENT)
                .filter(([, op]) => CHANGING_OPS.includes(op))
                .map(([n]) => n),
        ),
    ].sort();
}

/**
 * Workloads whose pods roll: the step changes the pod template. (A change of
 * the Deployment's own `titan-secrets.io/stages` annotation is an update
 * that restarts nothing.)
 */
function rolledDeployments(step: Step): string[] {
    const rolled = step.events
        .map((e) => e.resourcePreEvent?.metadata)
        .filter(
            (m) =>
                m !== undefined &&
                DEPLOYMENT.includes(m.type) &&
                Object.keys(m.detailedDiff ?? {}).some((k) => k.startsWith("spec.template")),
        );
    return [...new Set(rolled.map((m) => m!.urn.split("::").pop()!))].sort();
}

/** Warnings the engine reported (what the preview shows under Diagnostics). */
function warnings(step: Step): string[] {
    return step.events.filter((e) => e.diagnosticEvent?.severity === "warning").map((e) => e.diagnosticEvent!.message);
}

/** The HMAC keys in state (name -> value). */
async function hmacKeys(project: E2EProject): Promise<Map<string, string>> {
    return new Map([...(await project.keyValues())].filter(([name]) => name.startsWith("titan-hmac-")));
}

/**
 * Every managed resource's URN, inputs, outputs and dependencies (secrets
 * decrypted: their ciphertext changes on every export). The StackReference
 * is left out: it is a read, whose cached copy of the last ledger a refused
 * up may refresh without changing anything.
 */
async function stateOf(project: E2EProject): Promise<string> {
    const state = JSON.parse(await project.exportState(true));
    const managed = (state.deployment.resources ?? []).filter((r: any) => r.type !== "pulumi:pulumi:StackReference");
    return JSON.stringify(
        managed.map((r: any) => [r.urn, r.inputs, r.outputs, r.dependencies]),
        (_k, v) => plainSecret(v),
    );
}

/** A preview that would change nothing: only unchanged resources and reads. */
function noChanges(changes: Record<string, number>): string[] {
    return Object.keys(changes).filter((op) => op !== "same" && op !== "read");
}

/** Secret objects rendered to the folder: metadata.name -> decoded data. */
function renderedSecrets(project: E2EProject): Map<string, Record<string, string>> {
    const out = new Map<string, Record<string, string>>();
    for (const obj of project.rendered().values()) {
        if (obj.kind !== "Secret") continue;
        const data: Record<string, string> = { ...(obj.stringData ?? {}) };
        for (const [k, v] of Object.entries(obj.data ?? {})) data[k] = Buffer.from(String(v), "base64").toString("utf8");
        out.set(obj.metadata.name, data);
    }
    return out;
}

// Each step runs one or more CLI commands of several seconds each; on a busy
// 2-core machine a step can take minutes.
describe("rotation through the real engine (dev stack, rendered manifests)", { timeout: 300_000 }, () => {
    let project: E2EProject;
    const seenKeys = new Map<string, string>();
    const remember = async () => (await project.keyValues()).forEach((v, k) => seenKeys.set(`${k}@${v.slice(0, 6)}`, v));

    beforeAll(async () => {
        if (missing) throw new Error(missing);
        project = await E2EProject.create("dev", devConfig());
    }, 120_000);
    afterAll(() => project?.destroy());

    it("1. up at stable g1, then a preview with no changes", async () => {
        const up = await project.up();
        expect(up.error, up.output).toBeUndefined();
        await remember();
        expect([...(await hmacKeys(project)).keys()]).toEqual(["titan-hmac-g1"]);
        const preview = await project.preview();
        expect(preview.error, preview.output).toBeUndefined();
        expect(noChanges(preview.changes)).toEqual([]);
        expect(preview.changes.same).toBeGreaterThan(0);
        expect(warnings(preview).join("\n")).toMatch(/kubernetes.renderDir is set: .*plaintext/);
        // Plugins come from the plugin cache at exact versions, not from PATH.
        expect(warnings(preview).join("\n")).not.toMatch(/from \$PATH/);
    });

    it("2. overlap g2: verifiers finish before the presenter starts; untouched workloads have no step", async () => {
        const keysBefore = await hmacKeys(project);
        project.setConfig("secrets", hmacAt(2, "overlap"));
        const up = await project.up();
        expect(up.error, up.output).toBeUndefined();
        await remember();
        const log = stepLog(up.events, DEPLOYMENT);
        const presenterStart = indexOf(log, PRESENTER, "pre");
        expect(presenterStart).toBeGreaterThan(-1);
        for (const v of VERIFIERS) {
            const done = indexOf(log, v, "done");
            expect(done, `${v} finished`).toBeGreaterThan(-1);
            expect(done, `${v} finished before ${PRESENTER} started`).toBeLessThan(presenterStart);
        }
        expect(rolledDeployments(up)).toEqual([PRESENTER, ...VERIFIERS].sort());
        expect(log.filter(([n]) => n === "titan-ai-quant").every(([, op]) => op === "same")).toBe(true);

        const keys = await hmacKeys(project);
        expect(keys.get("titan-hmac-g1")).toBe(keysBefore.get("titan-hmac-g1")); // not regenerated
        expect(keys.get("titan-hmac-g2")).toMatch(/^[0-9a-f]{64}$/);
        expect(keys.get("titan-hmac-g2")).not.toBe(keys.get("titan-hmac-g1"));
        const secrets = renderedSecrets(project);
        expect(secrets.get("titan-hmac-verifiers-g2-g1")).toEqual({
            TITAN_HMAC_SECRET_PRIMARY: keys.get("titan-hmac-g2"),
            TITAN_HMAC_KEY_ID: "titan-hmac-g2",
            TITAN_HMAC_SECRET_SECONDARY: keys.get("titan-hmac-g1"),
            TITAN_HMAC_KEY_ID_SECONDARY: "titan-hmac-g1",
        });
        expect(secrets.get("titan-hmac-presenters-g2")).toEqual({
            TITAN_HMAC_SECRET_PRIMARY: keys.get("titan-hmac-g2"),
            TITAN_HMAC_KEY_ID: "titan-hmac-g2",
        });
    });

    it("3. stable g2 at once is refused with no change; lowering minOverlapHours does not help; force retires g1 and says so", async () => {
        const before = await stateOf(project);
        project.setConfig("secrets", hmacAt(2, "stable"));
        const preview = await project.preview();
        expect(preview.error).toBeDefined();
        expect(preview.output).toMatch(
            /titan-secrets:secrets\.titan-hmac\.stage: found stable at generation 2 only \d+m after overlap at generation 2 was applied/,
        );
        const up = await project.up();
        expect(up.error).toBeDefined();
        expect(steppedDeployments(up)).toEqual([]);
        expect(await stateOf(project)).toEqual(before);

        // The overlap was applied under the default 24 h; lowering the value
        // in the same change that retires is the edit the guard must survive.
        project.setConfig("secrets", hmacAt(2, "stable", { minOverlapHours: 0 }));
        const lowered = await project.preview();
        expect(lowered.error).toBeDefined();
        expect(lowered.output).toMatch(/titan-secrets:secrets\.titan-hmac\.stage: found stable at generation 2 only \d+m after overlap/);

        project.setConfig("secrets", hmacAt(2, "stable", { force: true }));
        const retire = await project.up();
        expect(retire.error, retire.output).toBeUndefined();
        expect(retire.output).toMatch(/FORCED/);
        expect(rolledDeployments(retire)).toEqual(VERIFIERS); // titan-brain holds g2 already: no restart
        expect([...(await hmacKeys(project)).keys()]).toEqual(["titan-hmac-g2"]);
        const ledger = (await project.outputs()).ledger as Record<string, { stage: string; forced?: { guards: string[] } }>;
        expect(ledger["titan-hmac"].stage).toBe("stable");
        expect(ledger["titan-hmac"].forced?.guards).toEqual(["minOverlapHours"]);
        project.setConfig("secrets", hmacAt(2, "stable"));
        const again = await project.preview();
        expect(noChanges(again.changes)).toEqual([]);
    });

    it("4. the way back: overlap g3 -> revert -> stable g2 rolls presenters first, then verifiers", async () => {
        const g2 = (await hmacKeys(project)).get("titan-hmac-g2");
        project.setConfig("secrets", hmacAt(3, "overlap"));
        expect((await project.up()).error).toBeUndefined();
        await remember();
        project.setConfig("secrets", hmacAt(3, "revert"));
        const revert = await project.up();
        expect(revert.error, revert.output).toBeUndefined();
        expect(rolledDeployments(revert)).toEqual([PRESENTER]); // verifiers keep accepting g3 and g2
        expect(renderedSecrets(project).get("titan-hmac-presenters-g2")?.TITAN_HMAC_SECRET_PRIMARY).toBe(g2);
        project.setConfig("secrets", hmacAt(2, "stable"));
        const back = await project.up();
        expect(back.error, back.output).toBeUndefined();
        expect(rolledDeployments(back)).toEqual(VERIFIERS);
        const keys = await hmacKeys(project);
        expect([...keys.keys()]).toEqual(["titan-hmac-g2"]);
        expect(keys.get("titan-hmac-g2")).toBe(g2);
    });

    it("4b. a revert in which both sides change: every presenter finishes before any verifier starts", async () => {
        const fresh = await E2EProject.create("dev", { ...devConfig(), "titan-secrets:secrets": hmacAt(2, "revert") });
        try {
            const up = await fresh.up();
            expect(up.error, up.output).toBeUndefined();
            const log = stepLog(up.events, DEPLOYMENT);
            const presenterDone = indexOf(log, PRESENTER, "done");
            for (const v of VERIFIERS) expect(indexOf(log, v, "pre")).toBeGreaterThan(presenterDone);
            project.transcript.push(...fresh.transcript);
            (await fresh.keyValues()).forEach((v, k) => seenKeys.set(`revert:${k}`, v));
        } finally {
            fresh.destroy();
        }
    });

    it("5. bad config fails the preview with its message and changes nothing", async () => {
        const before = await stateOf(project);
        project.setConfig("secrets", hmacAt(2, "stable", { presenters: ["titan-brian"] }));
        const preview = await project.preview();
        expect(preview.error).toBeDefined();
        expect(preview.output).toContain(
            'titan-secrets:secrets.titan-hmac.presenters[0]: found "titan-brian", which is not a declared service (did you mean "titan-brain"?)',
        );
        const up = await project.up();
        expect(up.error).toBeDefined();
        expect(await stateOf(project)).toEqual(before);
        project.setConfig("secrets", hmacAt(2, "stable"));
    });

    it("5b. the Redis password through the engine: the rendered ACL file on a real redis-server, server before clients", async () => {
        const redisAt = (generation: number, stage: string) => {
            const secrets = hmacAt(2, "stable") as Record<string, Record<string, unknown>>;
            return { ...secrets, "titan-redis-password": { ...secrets["titan-redis-password"], generation, stage, minOverlapHours: 0 } };
        };
        const passwords = async () => new Map([...(await project.keyValues())].filter(([n]) => n.startsWith("titan-redis-password-g")));
        const acl = () => {
            const found = [...project.rendered().values()].filter(
                (o) => o.kind === "Secret" && String(o.metadata.name).startsWith("titan-redis-password-verifiers-"),
            );
            expect(found).toHaveLength(1);
            const data = found[0].stringData?.["users.acl"] ?? Buffer.from(found[0].data["users.acl"], "base64").toString("utf8");
            return data as string;
        };
        const logins = async () => {
            const pw = await passwords();
            const server = await startRedis(acl());
            try {
                const out: Record<string, boolean> = {};
                for (const g of [1, 2]) {
                    const value = pw.get(`titan-redis-password-g${g}`);
                    if (value) out[`g${g}`] = await redisLogin(server.port, "titan", value);
                }
                out.wrong = await redisLogin(server.port, "titan", "not-the-password");
                return out;
            } finally {
                await server.stop();
            }
        };
        const g1 = (await passwords()).get("titan-redis-password-g1")!;

        project.setConfig("secrets", redisAt(2, "overlap"));
        const overlap = await project.up();
        expect(overlap.error, overlap.output).toBeUndefined();
        await remember();
        const log = stepLog(overlap.events, DEPLOYMENT);
        const serverDone = indexOf(log, "titan-redis", "done");
        for (const client of ["titan-ai-quant", "titan-brain", "titan-execution-rs"])
            expect(indexOf(log, client, "pre")).toBeGreaterThan(serverDone);
        expect(rolledDeployments(overlap)).toEqual(["titan-ai-quant", "titan-brain", "titan-execution-rs", "titan-redis"]);
        expect(await logins()).toEqual({ g1: true, g2: true, wrong: false });

        project.setConfig("secrets", redisAt(2, "stable"));
        const stable = await project.up();
        expect(stable.error, stable.output).toBeUndefined();
        expect(rolledDeployments(stable)).toEqual(["titan-redis"]);
        // g1's password is gone from state; the server must refuse it.
        const server = await startRedis(acl());
        try {
            expect(await redisLogin(server.port, "titan", g1)).toBe(false);
            expect(await redisLogin(server.port, "titan", (await passwords()).get("titan-redis-password-g2")!)).toBe(true);
        } finally {
            await server.stop();
        }
    });

    it("6. no key value in state export, outputs or CLI output; rendered files are private", async () => {
        await project.outputs();
        await project.exportState();
        const haystack = project.transcript.join("\n");
        expect(seenKeys.size).toBeGreaterThanOrEqual(6); // HMAC keys and the Redis and NATS passwords
        for (const [name, value] of seenKeys) {
            const encodings = [value, Buffer.from(value).toString("base64")];
            if (/^[0-9a-f]+$/.test(value)) {
                const bytes = Buffer.from(value, "hex"); // an HMAC key as bytes
                encodings.push(value.toUpperCase(), bytes.toString("base64"), bytes.toString("base64url"));
            }
            for (const encoded of encodings) {
                expect(haystack.includes(encoded), `${name} appears in plain output`).toBe(false);
            }
        }
        // The dev stack's exchange key (secure config) must not leak either.
        for (const v of ["dev-bybit-testnet-key-g1", "dev-bybit-testnet-secret-g1"])
            expect(haystack.includes(v), "exchange key in plain output").toBe(false);
        expect(haystack).toContain("titan-hmac-g2"); // the search ran over real output
        const modes = project.renderedModes();
        expect(modes.length).toBeGreaterThan(0);
        for (const mode of modes) expect(mode & 0o077, `mode ${mode.toString(8)}`).toBe(0);
        const ledger = (await project.outputs()).ledger as Record<string, { stage: string; generation: number }>;
        expect(ledger["titan-hmac"]).toMatchObject({ stage: "stable", generation: 2 });
    });
});
