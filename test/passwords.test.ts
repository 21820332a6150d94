// Service credentials under mocks, backend by backend and stage by stage:
// the AWS resources a rotation updates, file delivery to presenters, the
// order of the roll-out, and the stores of record.

import { describe, expect, it } from "vitest";
import { Ledger } from "../model";
import { ProgramRun, T, byType, generatedValues, isWireSecret, mockKeyHex, one, reveal, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const pw = (secret: string, g: number) => mockKeyHex(`${secret}-g${g}`);

const SERVICES = {
    "titan-brain": { image: "brain:1" },
    "titan-execution-rs": { image: "exec:1" },
    "titan-ai-quant": { image: "quant:1" },
    "titan-redis": { image: "redis:7", args: ["redis-server", "--aclfile", "/etc/redis/users.acl"] },
};

function config(secrets: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return { kubernetes: { renderDir: "rendered" }, aws: { region: "eu-west-1" }, services: SERVICES, secrets, ...extra };
}

async function sequence(steps: [Record<string, unknown>, Date][], extra: Record<string, unknown> = {}): Promise<ProgramRun[]> {
    const runs: ProgramRun[] = [];
    let ledger: Ledger = {};
    for (const [secrets, now] of steps) {
        const run = await runProgram(config(secrets, extra), ledger, now);
        if (run.error) throw run.error;
        ledger = run.outputs!.ledger;
        runs.push(run);
    }
    return runs;
}

const DB = (generation: number, stage: string, extra: Record<string, unknown> = {}) => ({
    db: {
        kind: "password",
        generation,
        stage,
        backend: { type: "rds", identifier: "titan-prod", instanceClass: "db.r6g.large", username: "titan" },
        verifiers: [],
        presenters: ["titan-brain", "titan-execution-rs"],
        ...extra,
    },
});

describe("RDS (one slot): a new password, then the presenters restart", () => {
    it("stable g1 -> stable g2 sets the master password write-only and rolls presenters after it", async () => {
        const [g1, g2] = await sequence([
            [DB(1, "stable"), T0],
            [DB(2, "stable"), at(1)],
        ]);
        const rds1 = one(g1, "aws:rds/instance:Instance", "db-rds");
        const rds2 = one(g2, "aws:rds/instance:Instance", "db-rds");
        expect(rds2.importId).toBe("titan-prod");
        expect(isWireSecret(rds2.inputs.passwordWo)).toBe(true);
        expect(reveal(rds1.inputs.passwordWo)).toBe(pw("db", 1));
        expect(reveal(rds2.inputs.passwordWo)).toBe(pw("db", 2));
        expect(rds2.inputs).toMatchObject({ identifier: "titan-prod", applyImmediately: true, username: "titan" });
        expect(rds2.inputs.passwordWoVersion).not.toBe(rds1.inputs.passwordWoVersion);
        expect(rds2.inputs.password).toBeUndefined();
        // The presenters' object waits for the instance, and each presenter for the object.
        expect(one(g2, T.secret, "db-presenters").dependsOn).toEqual(["db-rds"]);
        for (const svc of ["titan-brain", "titan-execution-rs"]) expect(one(g2, T.deployment, svc).dependsOn).toContain("db-presenters");
        expect(g2.plan!.waves).toEqual([["rds:titan-prod"], ["titan-brain", "titan-execution-rs"]]);
        expect(g2.logs.join("\n")).toMatch(
            /SINGLE-SLOT db: the rds titan-prod holds one password, so logins with generation 1 fail .* until each presenter pod has restarted/,
        );
        expect(g1.logs.join("\n")).not.toMatch(/SINGLE-SLOT/);
    });

    it("refuses overlap, and a jump over a generation", async () => {
        const overlap = await runProgram(config(DB(2, "overlap")), {}, T0);
        expect(overlap.error?.message).toContain(
            'titan-secrets:secrets.db.stage: found "overlap" for a rds backend, which holds one password at a time',
        );
        const [g1] = await sequence([[DB(1, "stable"), T0]]);
        const jump = await runProgram(config(DB(3, "stable")), g1.outputs!.ledger, at(1));
        expect(jump.error?.message).toContain("allowed: stable at generation 1 (no change), or one step: stable at generation 2;");
    });
});

const CACHE = (generation: number, stage: string) => ({
    cache: {
        kind: "password",
        generation,
        stage,
        backend: { type: "elasticache", identifier: "titan-cache" },
        verifiers: [],
        presenters: ["titan-brain"],
    },
});

describe("ElastiCache (two slots): ROTATE, then SET", () => {
    it("holds both tokens during overlap and only the new one at stable, with presenters in between", async () => {
        const [s1, o2, s2] = await sequence([
            [CACHE(1, "stable"), T0],
            [CACHE(2, "overlap"), at(1)],
            [CACHE(2, "stable"), at(30)],
        ]);
        const group = (r: ProgramRun) => one(r, "aws:elasticache/replicationGroup:ReplicationGroup", "cache-elasticache").inputs;
        expect([s1, o2, s2].map((r) => [reveal(group(r).authTokenWo), group(r).authTokenUpdateStrategy])).toEqual([
            [pw("cache", 1), "SET"],
            [pw("cache", 2), "ROTATE"],
            [pw("cache", 2), "SET"],
        ]);
        expect(new Set([s1, o2, s2].map((r) => group(r).authTokenWoVersion)).size).toBe(3);
        expect(one(o2, T.secret, "cache-presenters").dependsOn).toEqual(["cache-elasticache"]);
        expect(one(o2, T.deployment, "titan-brain").dependsOn).toContain("cache-presenters");
        expect(o2.plan!.waves).toEqual([["elasticache:titan-cache"], ["titan-brain"]]);
        // Retiring the old token changes nothing the presenters hold.
        expect(s2.plan!.waves).toEqual([["elasticache:titan-cache"]]);
        expect(one(s2, T.deployment, "titan-brain").inputs.spec.template).toEqual(
            one(o2, T.deployment, "titan-brain").inputs.spec.template,
        );
    });
});

const REDIS = (generation: number, stage: string) => ({
    cache: {
        kind: "password",
        generation,
        stage,
        backend: { type: "redis", username: "titan" },
        verifiers: ["titan-redis"],
        presenters: ["titan-brain", "titan-ai-quant"],
    },
});

describe("Redis in the cluster: files for presenters, the ACL file for the server", () => {
    it("delivers /run/secrets files at mode 0400 with *_FILE variables, and orders the server first", async () => {
        const [, o2] = await sequence([
            [REDIS(1, "stable"), T0],
            [REDIS(2, "overlap"), at(1)],
        ]);
        const brain = one(o2, T.deployment, "titan-brain").inputs.spec.template.spec;
        expect(brain.volumes).toEqual([
            {
                name: "run-secrets",
                projected: {
                    defaultMode: 0o400,
                    sources: [
                        {
                            secret: {
                                name: "cache-presenters-g2",
                                items: [
                                    { key: "redis_password", path: "redis_password", mode: 0o400 },
                                    { key: "redis_username", path: "redis_username", mode: 0o400 },
                                ],
                            },
                        },
                    ],
                },
            },
        ]);
        expect(brain.containers[0].volumeMounts).toEqual([{ name: "run-secrets", mountPath: "/run/secrets", readOnly: true }]);
        expect(brain.containers[0].env).toEqual([
            { name: "REDIS_PASSWORD_FILE", value: "/run/secrets/redis_password" },
            { name: "REDIS_USERNAME_FILE", value: "/run/secrets/redis_username" },
        ]);
        expect(reveal(one(o2, T.secret, "cache-presenters").inputs.stringData)).toEqual({
            redis_password: pw("cache", 2),
            redis_username: "titan",
        });
        const redis = one(o2, T.deployment, "titan-redis").inputs.spec.template.spec;
        expect(redis.containers[0].args).toEqual(["redis-server", "--aclfile", "/etc/redis/users.acl"]);
        expect(redis.containers[0].env).toEqual([{ name: "REDIS_ACL_FILE", value: "/etc/redis/users.acl" }]);
        expect(redis.volumes[0].projected.sources[0].secret.name).toBe("cache-verifiers-g2-g1");
        expect(one(o2, T.secret, "cache-presenters").dependsOn).toEqual(["titan-redis"]);
        expect(one(o2, T.deployment, "titan-brain").dependsOn).toEqual(["cache-presenters"]);
        expect(o2.plan!.waves).toEqual([["titan-redis"], ["titan-ai-quant", "titan-brain"]]);
        expect(o2.logs.join("\n")).toContain("Not restarted: titan-execution-rs.");
    });

    it("two secrets may not deliver the same file to one service", async () => {
        const both = { ...REDIS(1, "stable"), other: { ...REDIS(1, "stable").cache } };
        const run = await runProgram(config(both), {}, T0);
        expect(run.error?.message).toContain(
            'titan-secrets:secrets.other.backend.file: found "redis", so titan-brain would get REDIS_PASSWORD_FILE from both "cache" and "other"',
        );
        expect(run.error?.message).toContain('titan-secrets:secrets.other.verifiers: found "titan-redis", which already verifies "cache"');
    });
});

describe("stores of record: Vault KV v2 and Secrets Manager, for every kind", () => {
    const HMAC = (generation: number, stage: string) => ({
        sig: { kind: "hmac", generation, stage, verifiers: ["titan-execution-rs"], presenters: ["titan-brain"] },
    });
    const stores = { stores: { vault: { address: "https://vault.example:8200" }, secretsManager: { kmsKeyId: "alias/titan" } } };

    it("hold the current and, while live, the previous value, with plain metadata and AWS labels", async () => {
        const runs = await sequence(
            [
                [HMAC(1, "stable"), T0],
                [HMAC(2, "overlap"), at(1)],
                [HMAC(2, "revert"), at(2)],
                [HMAC(1, "stable"), at(3)],
            ],
            stores,
        );
        const vaultData = (r: ProgramRun) => JSON.parse(reveal(one(r, "vault:kv/secretV2:SecretV2", "sig-vault").inputs.dataJsonWo));
        expect(vaultData(runs[0])).toEqual({ current: pw("sig", 1), currentKeyId: "sig-g1" });
        expect(vaultData(runs[1])).toEqual({
            current: pw("sig", 2),
            currentKeyId: "sig-g2",
            previous: pw("sig", 1),
            previousKeyId: "sig-g1",
        });
        expect(vaultData(runs[2])).toEqual({
            current: pw("sig", 1),
            currentKeyId: "sig-g1",
            previous: pw("sig", 2),
            previousKeyId: "sig-g2",
        });
        const secret = one(runs[1], "vault:kv/secretV2:SecretV2", "sig-vault").inputs;
        expect(isWireSecret(secret.dataJsonWo)).toBe(true);
        expect(secret).toMatchObject({ mount: "secret", name: "titan/dev/sig" });
        expect(secret.customMetadata.data).toEqual({
            generation: "2",
            stage: "overlap",
            keyId: "sig-g2",
            previousKeyId: "sig-g1",
            managedBy: "titan-secrets",
        });
        expect(JSON.stringify(secret.customMetadata)).not.toContain(pw("sig", 1));
        // The write-only version changes with every change of content (and only then: the last run holds the first run's content).
        const versions = runs.map((r) => one(r, "vault:kv/secretV2:SecretV2", "sig-vault").inputs.dataJsonWoVersion);
        for (let i = 1; i < versions.length; i++) expect(versions[i]).not.toBe(versions[i - 1]);
        expect(versions[3]).toBe(versions[0]);

        const labels = (r: ProgramRun) =>
            Object.fromEntries(
                byType(r, "aws:secretsmanager/secretVersion:SecretVersion").map((v) => [v.name, v.inputs.versionStages.join(",")]),
            );
        expect(labels(runs[0])).toEqual({ "sig-sm-g1": "AWSCURRENT" });
        expect(labels(runs[1])).toEqual({ "sig-sm-g2": "AWSCURRENT", "sig-sm-g1": "AWSPREVIOUS" });
        expect(labels(runs[2])).toEqual({ "sig-sm-g1": "AWSCURRENT", "sig-sm-g2": "AWSPREVIOUS" });
        expect(labels(runs[3])).toEqual({ "sig-sm-g1": "AWSCURRENT" });
        expect(one(runs[1], "aws:secretsmanager/secretVersion:SecretVersion", "sig-sm-g2").dependsOn).toEqual(["sig-sm-g1"]);
        const v2 = one(runs[1], "aws:secretsmanager/secretVersion:SecretVersion", "sig-sm-g2").inputs;
        expect(isWireSecret(v2.secretStringWo)).toBe(true);
        expect(reveal(v2.secretStringWo)).toBe(pw("sig", 2));
        expect(v2.secretString).toBeUndefined();
        expect(one(runs[0], "aws:secretsmanager/secret:Secret", "sig-sm").inputs).toMatchObject({
            name: "titan/dev/sig",
            kmsKeyId: "alias/titan",
        });
        // Every AWS and Vault resource goes through an explicit provider.
        for (const r of runs[1].resources.filter((x) => x.type.startsWith("aws:") || x.type.startsWith("vault:"))) {
            expect(r.provider, r.name).toMatch(/pulumi:providers:(aws|vault)::(aws|vault)::/);
        }
    });

    it("switched off, nothing is written to either store", async () => {
        const [run] = await sequence([[HMAC(1, "stable"), T0]]);
        expect(
            run.resources.filter(
                (r) => r.type.startsWith("vault:") || r.type.startsWith("aws:") || r.type.startsWith("pulumi:providers:aws"),
            ),
        ).toEqual([]);
    });

    it("Secrets Manager needs a region", async () => {
        const run = await runProgram({ ...config(HMAC(1, "stable")), aws: undefined, stores: { secretsManager: {} } }, {}, T0);
        expect(run.error?.message).toContain(
            "titan-secrets:aws.region: found nothing, while stores.secretsManager is on; allowed: the AWS region of those resources",
        );
    });
});

describe("no password leaks", () => {
    it("into any output, log line or error of these runs", async () => {
        const runs = [
            ...(await sequence([
                [DB(1, "stable"), T0],
                [DB(2, "stable"), at(1)],
            ])),
            ...(await sequence([
                [REDIS(1, "stable"), T0],
                [REDIS(2, "overlap"), at(1)],
                [REDIS(2, "stable"), at(30)],
            ])),
        ];
        const haystack = JSON.stringify(runs.map((r) => [r.outputs, r.logs, r.error?.message]));
        expect(haystack).toContain("cache-g2"); // key IDs are there
        for (const v of generatedValues) expect(haystack.includes(v)).toBe(false);
    });
});
