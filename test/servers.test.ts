// Real redis-server and nats-server, started with the exact config files the
// program renders (taken from the verifier's Secret object under mocks) at
// each stage: during overlap the old and the new credential log in; at
// stable only the new one; a wrong password never does.

import { describe, expect, it } from "vitest";
import { Ledger } from "../model";
import { ProgramRun, T, mockKeyHex, one, reveal, runProgram } from "./support/mocks";
import { RunningServer, freePort, natsLogin, redisLogin, startNats, startRedis } from "./support/servers";

const T0 = new Date("2026-11-01T00:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);

function config(secret: Record<string, unknown>) {
    return {
        kubernetes: { renderDir: "rendered" },
        services: {
            "titan-brain": { image: "brain:1" },
            "titan-redis": { image: "redis:7", args: ["redis-server", "--aclfile", "/etc/redis/users.acl"] },
            "titan-nats": { image: "nats:2.10", args: ["-c", "/etc/nats/nats.conf"] },
        },
        secrets: { cred: secret },
    };
}

async function stages(secret: (generation: number, stage: string) => Record<string, unknown>): Promise<Record<string, ProgramRun>> {
    const out: Record<string, ProgramRun> = {};
    let ledger: Ledger = {};
    for (const [name, g, stage, h] of [
        ["stable1", 1, "stable", 0],
        ["overlap2", 2, "overlap", 1],
        ["stable2", 2, "stable", 30],
    ] as const) {
        const run = await runProgram(config(secret(g, stage)), ledger, at(h));
        if (run.error) throw run.error;
        ledger = run.outputs!.ledger;
        out[name] = run;
    }
    return out;
}

const rendered = (run: ProgramRun, key: string): string => reveal(one(run, T.secret, "cred-verifiers").inputs.stringData)[key];
const password = (g: number) => mockKeyHex(`cred-g${g}`);

async function withServer<R>(start: () => Promise<RunningServer>, f: (s: RunningServer) => Promise<R>): Promise<R> {
    const server = await start();
    try {
        return await f(server);
    } finally {
        await server.stop();
    }
}

describe("Redis in the cluster: the rendered ACL file on a real redis-server", () => {
    it("overlap lets both generations in, stable only the new one, a wrong password never", async () => {
        const runs = await stages((g, stage) => ({
            kind: "password",
            generation: g,
            stage,
            backend: { type: "redis", username: "titan" },
            verifiers: ["titan-redis"],
            presenters: ["titan-brain"],
        }));
        const logins = async (run: ProgramRun) =>
            withServer(
                () => startRedis(rendered(run, "users.acl")),
                async (s) => ({
                    g1: await redisLogin(s.port, "titan", password(1)),
                    g2: await redisLogin(s.port, "titan", password(2)),
                    wrong: await redisLogin(s.port, "titan", "not-the-password"),
                    defaultUser: await redisLogin(s.port, "default", ""),
                }),
            );
        expect(await logins(runs.stable1)).toEqual({ g1: true, g2: false, wrong: false, defaultUser: false });
        expect(await logins(runs.overlap2)).toEqual({ g1: true, g2: true, wrong: false, defaultUser: false });
        expect(await logins(runs.stable2)).toEqual({ g1: false, g2: true, wrong: false, defaultUser: false });
        // The file holds hashes only.
        for (const run of Object.values(runs)) {
            expect(rendered(run, "users.acl")).not.toContain(password(1));
            expect(rendered(run, "users.acl")).not.toContain(password(2));
        }
    }, 60_000);
});

describe("NATS in the cluster: the rendered server config on a real nats-server", () => {
    it("overlap has the old and the new user, stable only the new one", async () => {
        const port = await freePort();
        const runs = await stages((g, stage) => ({
            kind: "password",
            generation: g,
            stage,
            backend: { type: "nats", username: "titan", port },
            verifiers: ["titan-nats"],
            presenters: ["titan-brain"],
        }));
        const logins = async (run: ProgramRun) =>
            withServer(
                () => startNats(rendered(run, "nats.conf"), port),
                async (s) => ({
                    g1: await natsLogin(s.port, "titan-g1", password(1)),
                    g2: await natsLogin(s.port, "titan-g2", password(2)),
                    crossed: await natsLogin(s.port, "titan-g2", password(1)),
                    wrong: await natsLogin(s.port, "titan-g2", "not-the-password"),
                }),
            );
        expect(await logins(runs.stable1)).toEqual({ g1: true, g2: false, crossed: false, wrong: false });
        expect(await logins(runs.overlap2)).toEqual({ g1: true, g2: true, crossed: false, wrong: false });
        expect(await logins(runs.stable2)).toEqual({ g1: false, g2: true, crossed: false, wrong: false });
        // Presenters get the user name of their generation beside the password.
        expect(reveal(one(runs.overlap2, T.secret, "cred-presenters").inputs.stringData)).toEqual({
            nats_password: password(2),
            nats_username: "titan-g2",
        });
    }, 60_000);
});
