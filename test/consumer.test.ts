// The consumer library against what the program delivers. The environment
// of each pod is built from the program's own Deployments and Secret
// objects (under mocks) at each stage of a rotation; presenters sign with
// it, verifiers verify with it, and auth_failures counts what is refused.

import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    AuthFailures,
    HmacConfigError,
    KEY_ID,
    SECRET_FILE_NAME,
    SecretFileError,
    hmacKeysFromEnv,
    loadSecretsFromFiles,
    sign,
    verify,
} from "../consumer";
import { KEY_ID as CONFIG_KEY_ID, Ledger, SERVER_CONFIG, deliveryFor } from "../model";
import { hmac, titanConfig } from "./support/fleet";
import { ProgramRun, T, byType, one, reveal, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);

/** The environment the kubelet gives a service's pod: plain values, and secretKeyRefs resolved from the Secret objects. */
function podEnv(run: ProgramRun, service: string): Record<string, string> {
    const container = one(run, T.deployment, service).inputs.spec.template.spec.containers[0];
    const objects = new Map(
        byType(run, T.secret).map((s) => [s.inputs.metadata.name as string, reveal(s.inputs.stringData) as Record<string, string>]),
    );
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
        if (e.value !== undefined) env[e.name] = e.value;
        else env[e.name] = objects.get(e.valueFrom.secretKeyRef.name)![e.valueFrom.secretKeyRef.key];
    }
    return env;
}

async function rotation(): Promise<Record<string, ProgramRun>> {
    const out: Record<string, ProgramRun> = {};
    let ledger: Ledger = {};
    for (const [name, secret, when] of [
        ["stable1", hmac(1, "stable"), T0],
        ["overlap", hmac(2, "overlap"), at(1)],
        ["stable2", hmac(2, "stable"), at(30)],
    ] as const) {
        const run = await runProgram(titanConfig({ "titan-hmac": secret }), ledger, when);
        if (run.error) throw run.error;
        ledger = run.outputs!.ledger;
        out[name] = run;
    }
    return out;
}

describe("HMAC signing and verifying with what the program delivers", () => {
    let runs: Record<string, ProgramRun>;
    beforeAll(async () => {
        runs = await rotation();
    });

    it("every pod of a stage accepts every pod of the same stage, and of the stage before (the overlap's promise)", async () => {
        const failures = new AuthFailures();
        const order = ["stable1", "overlap", "stable2"];
        for (let i = 0; i < order.length; i++) {
            const verifier = hmacKeysFromEnv(podEnv(runs[order[i]], "titan-execution-rs"));
            // Presenters of this stage, and (during the roll) of the stage before.
            for (const presenterStage of i === 0 ? [order[0]] : [order[i - 1], order[i]]) {
                const presenter = hmacKeysFromEnv(podEnv(runs[presenterStage], "titan-brain"));
                const body = `order ${presenterStage} -> ${order[i]}`;
                const r = verify(verifier, body, sign(presenter, body), { counter: failures, secret: "titan-hmac" });
                expect(r, `${presenterStage} presenter to ${order[i]} verifier`).toEqual({ ok: true, keyId: presenter.primary.keyId });
            }
        }
        expect(await failures.count("titan-hmac")).toBe(0);
    });

    it("in overlap the verifier holds g2 as primary and g1 as secondary; the presenter signs with g2 and says so", () => {
        const verifier = hmacKeysFromEnv(podEnv(runs.overlap, "titan-sentinel"));
        expect([verifier.primary.keyId, verifier.secondary?.keyId]).toEqual(["titan-hmac-g2", "titan-hmac-g1"]);
        const presenter = hmacKeysFromEnv(podEnv(runs.overlap, "titan-brain"));
        expect(presenter.secondary).toBeUndefined();
        expect(sign(presenter, "x")["x-titan-key-id"]).toBe("titan-hmac-g2");
    });

    it("negative controls: the wrong order (presenter first), a retired key, a forged signature are refused and counted", async () => {
        const failures = new AuthFailures();
        const counted = { counter: failures, secret: "titan-hmac" };
        const g1Verifier = hmacKeysFromEnv(podEnv(runs.stable1, "titan-execution-rs"));
        const g2Presenter = hmacKeysFromEnv(podEnv(runs.overlap, "titan-brain"));
        const g1Presenter = hmacKeysFromEnv(podEnv(runs.stable1, "titan-brain"));
        const g2Verifier = hmacKeysFromEnv(podEnv(runs.stable2, "titan-execution-rs"));
        expect(verify(g1Verifier, "a", sign(g2Presenter, "a"), counted)).toEqual({ ok: false, reason: "unknown_key_id" });
        expect(verify(g2Verifier, "b", sign(g1Presenter, "b"), counted)).toEqual({ ok: false, reason: "unknown_key_id" });
        const forged = { ...sign(g2Presenter, "c"), "x-titan-signature": "00".repeat(32) };
        expect(verify(g2Verifier, "c", forged, counted)).toEqual({ ok: false, reason: "bad_signature" });
        expect(verify(g2Verifier, "d", sign(g2Presenter, "other body"), counted)).toEqual({ ok: false, reason: "bad_signature" });
        expect(verify(g2Verifier, "e", {}, counted)).toEqual({ ok: false, reason: "missing_signature" });
        expect(await failures.count("titan-hmac")).toBe(5);
        const text = await failures.metrics();
        expect(text).toContain('auth_failures{secret="titan-hmac",reason="unknown_key_id"} 2');
        expect(text).toContain('auth_failures{secret="titan-hmac",reason="bad_signature"} 2');
        // Never a key in the metrics.
        for (const k of [g1Verifier.primary.secret, g2Verifier.primary.secret]) expect(text).not.toContain(k);
    });

    it("the PrometheusRule's expression selects exactly the series the counter writes for that secret", async () => {
        const run = await runProgram(
            { ...titanConfig({ "titan-hmac": hmac(2, "overlap") }), monitoring: { prometheusRule: true } },
            runs.stable1.outputs!.ledger,
            at(1),
        );
        const expr: string = one(run, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "rotation-alerts").inputs.spec.groups[0]
            .rules[0].expr;
        const selector = /auth_failures\{([^}]*)\}/.exec(expr)?.[1];
        expect(selector).toBe('secret="titan-hmac"');
        const failures = new AuthFailures();
        failures.inc("titan-hmac", "unknown_key_id");
        failures.inc("titan-redis-password", "login_refused");
        const series = (await failures.metrics()).split("\n").filter((l) => l.startsWith("auth_failures{"));
        const matching = series.filter((l) => selector!.split(",").every((m) => l.includes(m)));
        expect(matching).toEqual(['auth_failures{secret="titan-hmac",reason="unknown_key_id"} 1']);
    });

    it("bad environments are refused by variable name, never with a value", () => {
        const env = podEnv(runs.overlap, "titan-sentinel");
        expect(() => hmacKeysFromEnv({ ...env, TITAN_HMAC_KEY_ID: undefined })).toThrow(HmacConfigError);
        let message = "";
        try {
            hmacKeysFromEnv({ ...env, TITAN_HMAC_SECRET_PRIMARY: env.TITAN_HMAC_SECRET_PRIMARY.slice(1) });
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toBe("TITAN_HMAC_SECRET_PRIMARY is not 64 hex characters");
        expect(() => hmacKeysFromEnv({ ...env, TITAN_HMAC_KEY_ID_SECONDARY: env.TITAN_HMAC_KEY_ID })).toThrow(/a key ID names one key/);
        expect(() => hmacKeysFromEnv({ ...env, TITAN_HMAC_SECRET_SECONDARY: env.TITAN_HMAC_SECRET_PRIMARY })).toThrow(
            new HmacConfigError("TITAN_HMAC_SECRET_SECONDARY equals TITAN_HMAC_SECRET_PRIMARY: each generation has a key of its own"),
        );
    });
});

describe("verify reads headers as HTTP does, and refuses key IDs that are not key IDs", () => {
    const secret = (n: number) => n.toString(16).padStart(2, "0").repeat(32);
    const keys = hmacKeysFromEnv({
        TITAN_HMAC_SECRET_PRIMARY: secret(2),
        TITAN_HMAC_KEY_ID: "titan-hmac-g2",
        TITAN_HMAC_SECRET_SECONDARY: secret(1),
        TITAN_HMAC_KEY_ID_SECONDARY: "titan-hmac-g1",
    });
    const signed = sign(keys, "body");

    it("header names in any case", () => {
        for (const spell of [
            (h: string) => h.toUpperCase(),
            (h: string) => h.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase()),
        ]) {
            const headers = Object.fromEntries(Object.entries(signed).map(([k, v]) => [spell(k), v]));
            expect(verify(keys, "body", headers), JSON.stringify(headers)).toEqual({ ok: true, keyId: "titan-hmac-g2" });
        }
    });

    it("the MAC in upper-case hex, still compared in full", () => {
        const upper = { ...signed, "x-titan-signature": signed["x-titan-signature"].toUpperCase() };
        expect(verify(keys, "body", upper)).toEqual({ ok: true, keyId: "titan-hmac-g2" });
        expect(verify(keys, "other", upper)).toEqual({ ok: false, reason: "bad_signature" });
    });

    it("a header sent twice with different values is refused; twice the same, or a list of one, is read", async () => {
        const failures = new AuthFailures();
        const counted = { counter: failures, secret: "titan-hmac" };
        const sig = signed["x-titan-signature"];
        expect(verify(keys, "body", { ...signed, "X-Titan-Key-Id": "titan-hmac-g1" }, counted)).toEqual({
            ok: false,
            reason: "bad_key_id",
        });
        expect(verify(keys, "body", { ...signed, "x-titan-key-id": ["titan-hmac-g2", "titan-hmac-g1"] }, counted)).toEqual({
            ok: false,
            reason: "bad_key_id",
        });
        expect(verify(keys, "body", { ...signed, "X-TITAN-SIGNATURE": "00".repeat(32) }, counted)).toEqual({
            ok: false,
            reason: "bad_signature",
        });
        expect(verify(keys, "body", { ...signed, "X-Titan-Key-Id": "titan-hmac-g2", "X-TITAN-SIGNATURE": sig })).toEqual({
            ok: true,
            keyId: "titan-hmac-g2",
        });
        expect(verify(keys, "body", { ...signed, "x-titan-key-id": ["titan-hmac-g2"] })).toEqual({ ok: true, keyId: "titan-hmac-g2" });
        expect(await failures.count("titan-hmac")).toBe(3);
    });

    it("a received key ID with a space, a control character, or past 63 characters is refused and counted as bad_key_id", async () => {
        const failures = new AuthFailures();
        const counted = { counter: failures, secret: "titan-hmac" };
        for (const keyId of [
            "titan-hmac-g2 ",
            "titan hmac",
            "titan-hmac-g2\r\nx-injected: 1",
            "\u0000",
            ".titan",
            "k".repeat(64),
            "titan-hmac-g2, titan-hmac-g1",
        ]) {
            expect(verify(keys, "body", { ...signed, "x-titan-key-id": keyId }, counted), JSON.stringify(keyId)).toEqual({
                ok: false,
                reason: "bad_key_id",
            });
        }
        expect(await failures.metrics()).toContain('auth_failures{secret="titan-hmac",reason="bad_key_id"} 7');
        expect(verify(keys, "body", { ...signed, "x-titan-key-id": "k".repeat(63) })).toEqual({ ok: false, reason: "unknown_key_id" });
    });

    it("a delivered key ID outside the safe charset stops the service at start-up, naming the variable only", () => {
        const env = { TITAN_HMAC_SECRET_PRIMARY: secret(2), TITAN_HMAC_KEY_ID: "titan hmac g2" };
        expect(() => hmacKeysFromEnv(env)).toThrow(
            new HmacConfigError(
                "TITAN_HMAC_KEY_ID is not a key ID: 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit",
            ),
        );
        expect(() =>
            hmacKeysFromEnv({
                ...env,
                TITAN_HMAC_KEY_ID: "g2",
                TITAN_HMAC_SECRET_SECONDARY: secret(1),
                TITAN_HMAC_KEY_ID_SECONDARY: "g1\n",
            }),
        ).toThrow(/^TITAN_HMAC_KEY_ID_SECONDARY is not a key ID/);
        expect(() =>
            hmacKeysFromEnv({
                ...env,
                TITAN_HMAC_KEY_ID: "Titan-G2",
                TITAN_HMAC_SECRET_SECONDARY: secret(1),
                TITAN_HMAC_KEY_ID_SECONDARY: "titan-g2",
            }),
        ).toThrow(/a key ID names one key/);
    });

    it("the key ID rule is the program's own (model/schema.ts KEY_ID)", () => {
        expect(KEY_ID.source).toBe(CONFIG_KEY_ID.source);
        expect(KEY_ID.flags).toBe(CONFIG_KEY_ID.flags);
    });
});

describe("loadSecretsFromFiles", () => {
    let dir: string;
    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), "titan-consumer-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const file = (name: string, content: string, mode = 0o400) => {
        const path = join(dir, name);
        writeFileSync(path, content);
        chmodSync(path, mode);
        return path;
    };

    it("reads the contract's *_FILE variables, one trailing newline removed", () => {
        const env = {
            REDIS_PASSWORD_FILE: file("redis_password", "s3cret-password-value\n"),
            REDIS_USERNAME_FILE: file("redis_username", "titan", 0o440),
            BYBIT_API_KEY_FILE: file("bybit_api_key", "an-api-key"),
            LOG_LEVEL: "info",
        };
        expect(loadSecretsFromFiles(env)).toEqual({
            REDIS_PASSWORD: "s3cret-password-value",
            REDIS_USERNAME: "titan",
            BYBIT_API_KEY: "an-api-key",
        });
    });

    it("leaves every other *_FILE variable alone: a world-readable certificate, a missing kubeconfig, an empty one", () => {
        const env = {
            DB_PASSWORD_FILE: file("db_password", "pw"),
            SSL_CERT_FILE: file("ca.pem", "-----BEGIN CERTIFICATE-----", 0o644),
            KUBECONFIG_FILE: join(dir, "no-such-kubeconfig"),
            NODE_EXTRA_CA_CERTS_FILE: "",
            REDIS_ACL_FILE: "/etc/redis/users.acl", // a server's config, read by the server, not by a service
            db_password_file: join(dir, "lower-case-is-not-ours"),
        };
        expect(loadSecretsFromFiles(env)).toEqual({ DB_PASSWORD: "pw" });
    });

    it("every file variable the program delivers to a service is of the contract; the servers' configs are not", () => {
        const spec = (s: Record<string, unknown>) => s as never;
        const delivered = [
            ...["db", "redis", "nats", "a".repeat(31), "cache_2"].map((f) =>
                deliveryFor(spec({ kind: "password", backend: { type: "rds", file: f } }), "presenter"),
            ),
            ...["bybit", "gate-io", "b".repeat(31)].map((x) => deliveryFor(spec({ kind: "apiKey", exchange: x }), "presenter")),
        ].flatMap((d) => Object.keys(d.plainEnv));
        expect(delivered).toHaveLength(16);
        for (const v of delivered) expect(v.endsWith("_FILE") && SECRET_FILE_NAME.test(v.slice(0, -"_FILE".length)), v).toBe(true);
        for (const c of Object.values(SERVER_CONFIG)) expect(SECRET_FILE_NAME.test(c.env.slice(0, -"_FILE".length)), c.env).toBe(false);
    });

    it("with names, reads exactly those, each required; a name outside the contract is refused", () => {
        const env = {
            DB_PASSWORD_FILE: file("db_password2", "pw"),
            DB_USERNAME_FILE: file("db_username2", "titan"),
            REDIS_PASSWORD_FILE: file("redis_open", "not-this-service's", 0o644),
        };
        expect(loadSecretsFromFiles(env, { names: ["DB_PASSWORD", "DB_USERNAME"] })).toEqual({ DB_PASSWORD: "pw", DB_USERNAME: "titan" });
        expect(() => loadSecretsFromFiles(env, { names: ["DB_PASSWORD", "NATS_PASSWORD"] })).toThrow(
            new SecretFileError("NATS_PASSWORD_FILE is not set"),
        );
        expect(() => loadSecretsFromFiles({ ...env, SSL_CERT_FILE: file("ca2.pem", "x") }, { names: ["SSL_CERT"] })).toThrow(
            /^"SSL_CERT" is not a file of the consumer contract/,
        );
    });

    it("a contract variable set to nothing is refused, not skipped", () => {
        expect(() => loadSecretsFromFiles({ DB_PASSWORD_FILE: "" })).toThrow(/^DB_PASSWORD_FILE is set to nothing/);
    });

    it("refuses a missing, empty or world-readable file, naming the variable and path only", () => {
        expect(() => loadSecretsFromFiles({ DB_PASSWORD_FILE: join(dir, "nope") })).toThrow(
            `DB_PASSWORD_FILE: cannot read ${join(dir, "nope")} (ENOENT)`,
        );
        expect(() => loadSecretsFromFiles({ DB_PASSWORD_FILE: file("empty", "") })).toThrow(/DB_PASSWORD_FILE: .* is empty/);
        let message = "";
        try {
            loadSecretsFromFiles({ DB_PASSWORD_FILE: file("open", "a-password-in-an-open-file", 0o644) });
        } catch (e) {
            expect(e).toBeInstanceOf(SecretFileError);
            message = (e as Error).message;
        }
        expect(message).toMatch(/readable by every user/);
        expect(message).not.toContain("a-password");
        expect(() => loadSecretsFromFiles({ DB_PASSWORD_FILE: file("writable", "pw", 0o602) })).toThrow(
            /^DB_PASSWORD_FILE: .*writable is writable by every user; secret files are delivered at 0400 or 0440$/,
        );
    });

    it("refuses a FIFO or a directory at once (a FIFO with no writer would block the read forever); a symlink to a file is read, as the kubelet lays them out", () => {
        const fifo = join(dir, "fifo");
        execFileSync("mkfifo", ["-m", "600", fifo]);
        expect(() => loadSecretsFromFiles({ DB_PASSWORD_FILE: fifo })).toThrow(
            new SecretFileError(`DB_PASSWORD_FILE: ${fifo} is not a regular file; the program delivers each secret as a file`),
        );
        const sub = join(dir, "a-directory");
        mkdirSync(sub, { mode: 0o700 });
        expect(() => loadSecretsFromFiles({ DB_PASSWORD_FILE: sub })).toThrow(/^DB_PASSWORD_FILE: .* is not a regular file/);
        const link = join(dir, "db_password_link");
        symlinkSync(file("..data_db_password", "pw-behind-a-link"), link);
        expect(loadSecretsFromFiles({ DB_PASSWORD_FILE: link })).toEqual({ DB_PASSWORD: "pw-behind-a-link" });
    });
});
