// Bad config, each with the sentence the user sees: the key, what was found,
// what is allowed.

import { describe, expect, it } from "vitest";
import { ConfigError, RawConfig, parseConfig, rawConfigFrom } from "../model";
import { TITAN_SERVICES, hmac, titanConfig } from "./support/fleet";

const one = (secret: Record<string, unknown>): RawConfig => titanConfig({ "hmac-main": secret });
const pw = (generation: number, stage: string, extra: Record<string, unknown> = {}) => ({
    ...hmac(generation, stage),
    kind: "password",
    ...extra,
});

const cases: [string, RawConfig, string][] = [
    [
        "unknown service",
        one(hmac(1, "stable", { presenters: ["titan-brian"] })),
        'titan-secrets:secrets.hmac-main.presenters[0]: found "titan-brian", which is not a declared service (did you mean "titan-brain"?); allowed: a service declared under titan-secrets:services: titan-brain, titan-execution-rs, titan-sentinel, titan-ai-quant.',
    ],
    [
        "a service both verifier and presenter",
        one(hmac(1, "stable", { presenters: ["titan-brain", "titan-sentinel"] })),
        'titan-secrets:secrets.hmac-main.presenters: found "titan-sentinel", which is also listed under verifiers; allowed: a service is either a verifier or a presenter of one secret, never both',
    ],
    [
        "overlap at generation 1",
        one(hmac(1, "overlap")),
        "titan-secrets:secrets.hmac-main.generation: found 1 with stage \"overlap\"; allowed: a generation >= 2 in overlap, which keeps the previous generation live beside it. Fix: pulumi config set --path 'secrets.hmac-main.generation' 2",
    ],
    [
        "revert at generation 1",
        one(hmac(1, "revert")),
        'titan-secrets:secrets.hmac-main.generation: found 1 with stage "revert"; allowed: a generation >= 2 in revert',
    ],
    [
        "compromised without an incident",
        one(hmac(2, "compromised")),
        "titan-secrets:secrets.hmac-main.incident: found nothing, with stage \"compromised\"; allowed: an incident ID (any non-empty text) that explains the emergency rotation. Fix: pulumi config set --path 'secrets.hmac-main.incident' INC-1234",
    ],
    ["negative generation", one(hmac(-1, "stable")), "titan-secrets:secrets.hmac-main.generation: found -1; allowed: a number >= 1."],
    ["non-integer generation", one(hmac(1.5, "stable")), "titan-secrets:secrets.hmac-main.generation: found 1.5; allowed: a whole number."],
    [
        "generation as text",
        one(hmac("two" as never, "stable")),
        'titan-secrets:secrets.hmac-main.generation: found "two"; allowed: a number.',
    ],
    [
        "negative maxAgeDays",
        one(hmac(1, "stable", { maxAgeDays: -5 })),
        "titan-secrets:secrets.hmac-main.maxAgeDays: found -5; allowed: a number >= 1.",
    ],
    [
        "non-integer minOverlapHours",
        one(hmac(1, "stable", { minOverlapHours: 2.5 })),
        "titan-secrets:secrets.hmac-main.minOverlapHours: found 2.5; allowed: a whole number.",
    ],
    [
        "unknown stage",
        one(hmac(1, "retire")),
        'titan-secrets:secrets.hmac-main.stage: found "retire"; allowed: one of "stable", "overlap", "revert", "compromised".',
    ],
    [
        "unknown kind",
        one({ ...hmac(1, "stable"), kind: "jwt" }),
        'titan-secrets:secrets.hmac-main.kind: found "jwt"; allowed: one of "hmac", "password", "apiKey".',
    ],
    [
        "empty verifiers for hmac",
        one(hmac(1, "stable", { verifiers: [] })),
        "titan-secrets:secrets.hmac-main.verifiers: found an empty list; allowed: at least one service that verifies the HMAC signatures.",
    ],
    [
        "a misspelt key",
        one({ ...hmac(1, "stable"), verifers: ["titan-sentinel"] }),
        'titan-secrets:secrets.hmac-main: found unknown key "verifers" (did you mean "verifiers"?); allowed: kind, generation, stage, keyId, previousKeyId, verifiers, presenters, minOverlapHours, force, incident, maxAgeDays, envPrefix.',
    ],
    [
        "a key of another kind (length on an hmac secret, whose key is always 64 hex characters)",
        one(hmac(1, "stable", { length: 16 })),
        'titan-secrets:secrets.hmac-main: found unknown key "length", a key of kind "password"; allowed: kind, generation, stage, keyId, previousKeyId, verifiers, presenters, minOverlapHours, force, incident, maxAgeDays, envPrefix.',
    ],
    [
        "missing verifiers",
        one({ kind: "hmac", generation: 1, stage: "stable", presenters: [] }),
        "titan-secrets:secrets.hmac-main.verifiers: found nothing; allowed: services that accept the credential (HMAC listeners, the Redis or NATS server); empty when an AWS resource or the exchange verifies.",
    ],
    [
        "custom keyId in overlap without the previous one",
        one(hmac(2, "overlap", { keyId: "brain-2026b" })),
        'titan-secrets:secrets.hmac-main.previousKeyId: found nothing, while keyId is declared ("brain-2026b") and generation 1 is still live; allowed: the key ID of generation 1',
    ],
    [
        "a key ID with a space",
        one(hmac(1, "stable", { keyId: "brain key" })),
        "titan-secrets:secrets.hmac-main.keyId: found \"brain key\"; allowed: a key ID of 1 to 63 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces or control characters: it is sent as an HTTP header value and used as a file name).",
    ],
    [
        "a secret name Kubernetes cannot use",
        titanConfig({ HMAC_Main: hmac(1, "stable") }),
        "titan-secrets:secrets.HMAC_Main: found the secret name \"HMAC_Main\"; allowed: lower-case letters, digits and '-', at most 40 characters",
    ],
    [
        "a service without an image",
        titanConfig({}, { "titan-brain": { replicas: 1 } }),
        "titan-secrets:services.titan-brain.image: found nothing; allowed: the container image of the workload the program declares, or ownedElsewhere: { kind, name } for a workload another tool owns.",
    ],
    [
        "negative replicas",
        titanConfig({}, { "titan-brain": { image: "x", replicas: -1 } }),
        "titan-secrets:services.titan-brain.replicas: found -1; allowed: a number >= 0.",
    ],
    [
        "two secrets delivering the same variables to one service",
        titanConfig({ a: hmac(1, "stable"), b: hmac(1, "stable") }),
        'titan-secrets:secrets.b.envPrefix: found "TITAN_HMAC", so titan-execution-rs would get TITAN_HMAC_SECRET_PRIMARY from both "a" and "b"; allowed: a prefix that no other secret delivered to the same service uses. Fix: pulumi config set --path \'secrets.b.envPrefix\' TITAN_HMAC_B',
    ],
    [
        "a plain env var shadowing a delivered secret",
        titanConfig({ k: hmac(1, "stable") }, { ...TITAN_SERVICES, "titan-brain": { image: "x", env: { TITAN_HMAC_KEY_ID: "k" } } }),
        'titan-secrets:services.titan-brain.env.TITAN_HMAC_KEY_ID: found a plain value for TITAN_HMAC_KEY_ID, which secret "k" delivers; allowed: environment names that no secret delivers to this service.',
    ],
    [
        "unknown kubernetes key",
        { ...one(hmac(1, "stable")), kubernetes: { renderdir: "x" } },
        'titan-secrets:kubernetes: found unknown key "renderdir" (did you mean "renderDir"?); allowed: namespace, renderDir, kubeconfig, context, rolloutTimeoutSeconds.',
    ],
    [
        "secrets not a map",
        { services: TITAN_SERVICES, secrets: ["hmac-main"] },
        "titan-secrets:secrets: found a list of 1; allowed: a map of keys to values.",
    ],
    [
        "unknown backend",
        one(pw(1, "stable", { backend: { type: "mysql" } })),
        'titan-secrets:secrets.hmac-main.backend.type: found "mysql"; allowed: one of "rds", "elasticache", "redis", "nats".',
    ],
    [
        "a single-slot backend asked for overlap",
        one(pw(2, "overlap", { backend: { type: "rds", identifier: "db1", instanceClass: "db.t4g.small" }, verifiers: [] })),
        'titan-secrets:secrets.hmac-main.stage: found "overlap" for a rds backend, which holds one password at a time; allowed: "stable" at the next generation (the password changes, then the presenters restart; logins fail in between) or "compromised".',
    ],
    [
        "missing RDS identifier",
        one(pw(1, "stable", { backend: { type: "rds", instanceClass: "db.t4g.small" }, verifiers: [] })),
        "titan-secrets:secrets.hmac-main.backend.identifier: found nothing; allowed: the RDS instance identifier whose master password this secret is.",
    ],
    [
        "RDS with verifier services",
        one(pw(1, "stable", { backend: { type: "rds", identifier: "db1", instanceClass: "db.t4g.small" } })),
        'titan-secrets:secrets.hmac-main.verifiers: found "titan-execution-rs", "titan-sentinel" for a rds backend; allowed: an empty list: the rds db1 itself verifies the password.',
    ],
    [
        "a password without a backend",
        one(pw(1, "stable")),
        'titan-secrets:secrets.hmac-main.backend: found nothing; allowed: an object whose type is one of "rds", "elasticache", "redis", "nats": where the password is checked.',
    ],
    [
        "an hmac secret with a backend",
        one(hmac(1, "stable", { backend: { type: "redis" } })),
        'titan-secrets:secrets.hmac-main: found unknown key "backend", a key of kind "password"',
    ],
    [
        "an RDS identifier on a Redis backend",
        one(pw(1, "stable", { backend: { type: "redis", identifier: "db1" } })),
        'titan-secrets:secrets.hmac-main.backend: found unknown key "identifier"; allowed: type, username, permissions, port, file.',
    ],
    [
        "a misspelt backend key",
        one(pw(1, "stable", { backend: { type: "redis", usernme: "x" } })),
        'titan-secrets:secrets.hmac-main.backend: found unknown key "usernme" (did you mean "username"?)',
    ],
    [
        "a newline in Redis permissions (it would add a second, passwordless ACL user)",
        one(pw(1, "stable", { backend: { type: "redis", permissions: "~* +@all\nuser evil on nopass ~* +@all" } })),
        'titan-secrets:secrets.hmac-main.backend.permissions: found "~* +@all\\nuser evil on nopass ~* +@all"; allowed: text without control characters (no line breaks, tabs or invisible formatting characters).',
    ],
    [
        "nopass in Redis permissions",
        one(pw(1, "stable", { backend: { type: "redis", permissions: "nopass ~* +@all" } })),
        'titan-secrets:secrets.hmac-main.backend.permissions: found the rule(s) "nopass"; allowed: Redis ACL rules',
    ],
    [
        "a NATS subject that breaks out of its string",
        one(pw(1, "stable", { backend: { type: "nats", permissions: '>" } ] } authorization { users = [ { user: "x"' } })),
        'titan-secrets:secrets.hmac-main.backend.permissions: found ">\\" } ] } authorization { users = [ { user: \\"x\\""; allowed: one NATS subject',
    ],
    [
        "two secrets on one RDS instance",
        titanConfig({
            a: { ...pw(1, "stable", { backend: { type: "rds", identifier: "db1", instanceClass: "db.t4g.small" }, verifiers: [] }) },
            b: {
                ...pw(1, "stable", {
                    backend: { type: "rds", identifier: "db1", instanceClass: "db.t4g.small", file: "db2" },
                    verifiers: [],
                }),
            },
        }),
        'titan-secrets:secrets.b.backend.identifier: found "db1", the rds that secret "a" already owns; allowed: a backend that no other secret sets the password of (one backend, one owner).',
    ],
    [
        "a password too short",
        one(pw(1, "stable", { backend: { type: "redis" }, length: 8 })),
        "titan-secrets:secrets.hmac-main.length: found 8; allowed: a number >= 16.",
    ],
];

describe("keys of the project's namespace", () => {
    it.each([
        ["titan-secrets:secret", "secrets"],
        ["titan-secrets:kubernets", "kubernetes"],
        ["titan-secrets:store", "stores"],
    ])("%s is refused, not read as nothing (did you mean %s?)", (key, near) => {
        expect(() => rawConfigFrom({ [key]: {}, "pulumi:disable-default-providers": ["kubernetes"] })).toThrow(
            `${key}: found an unknown key (did you mean "${near}"?)`,
        );
    });

    it.each(["titan-secret:secrets", "Titan-Secrets:secrets", "titan_secrets:secrets", "titan-secrets-:services"])(
        "%s, a namespace one typo from the project's, is refused: the program would not read it",
        (key) => {
            expect(() => rawConfigFrom({ [key]: {}, "pulumi:disable-default-providers": ["kubernetes"] })).toThrow(
                `${key}: found a key of the namespace ${JSON.stringify(key.split(":")[0])}, which the program does not read (did you mean "titan-secrets"?)`,
            );
        },
    );

    it("keys of other namespaces are not the program's business", () => {
        expect(
            rawConfigFrom({ "pulumi:disable-default-providers": ["kubernetes"], "kubernetes:context": "x", "titan-secrets:secrets": {} }),
        ).toEqual({ secrets: {} });
    });
});

describe("bad config fails with a sentence naming the key", () => {
    it("has at least 15 cases", () => expect(cases.length).toBeGreaterThanOrEqual(15));
    it.each(cases)("%s", (_name, raw, expected) => {
        let error: unknown;
        try {
            parseConfig(raw);
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toContain(expected);
    });
    it("reports every problem at once", () => {
        const raw = titanConfig({ a: hmac(0, "stable"), b: hmac(2, "compromised", { verifiers: [] }) });
        expect(() => parseConfig(raw)).toThrow(/Invalid stack config \(3 problems\)/);
    });
    it("accepts the good config and fills in the defaults", () => {
        const spec = parseConfig(one(hmac(1, "stable")));
        expect(spec.secrets.get("hmac-main")).toMatchObject({
            keyId: "hmac-main-g1",
            maxAgeDays: 90,
            minOverlapHours: 24,
            envPrefix: "TITAN_HMAC",
            force: false,
        });
        expect(spec.services.get("titan-sentinel")).toMatchObject({ replicas: 1, env: { LOG_LEVEL: "info" } });
        expect(spec.kubernetes).toEqual({ namespace: "titan", renderDir: "rendered", rolloutTimeoutSeconds: 600 });
    });
});
