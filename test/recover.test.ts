// rotate recover on a file backend of its own: a stale lock is removed, a
// live or foreign one is refused with the command for a person, an unreadable
// one stops everything, and pending creates are cleared.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PulumiRunner, RecoverError, RecoverReadError, formatRecover, recover } from "../cli/rotate/recover";
import { EXIT, Io, main } from "../cli/rotate/cli";

let backend: string;
let ran: string[][];
let pending: { type: string; resource: { urn: string } }[];

function lock(pid: number, host: string, text?: string, project = "titan-secrets"): void {
    const dir = join(backend, ".pulumi", "locks", "organization", project, "prod");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
        join(dir, `${pid}.json`),
        text ?? JSON.stringify({ pid, username: "ci", hostname: host, timestamp: "2026-11-25T10:00:00Z" }),
    );
}

const pulumi: PulumiRunner = (args) => {
    ran.push(args);
    if (args[0] === "whoami") return { status: 0, stdout: JSON.stringify({ url: `file://${backend}` }), stderr: "" };
    if (args[0] === "stack") return { status: 0, stdout: JSON.stringify({ deployment: { pending_operations: pending } }), stderr: "" };
    return { status: 0, stdout: "", stderr: "" };
};
const host = (running: number[]) => ({ hostname: "runner-1", pulumiRunning: (pid: number) => running.includes(pid) });

beforeEach(() => {
    backend = mkdtempSync(join(tmpdir(), "titan-recover-"));
    ran = [];
    pending = [];
});
afterEach(() => rmSync(backend, { recursive: true, force: true }));

describe("rotate recover", () => {
    it("removes a lock taken on this host by a process that is gone, and says what comes next", () => {
        lock(4242, "runner-1");
        const r = recover("prod", pulumi, host([]));
        expect(r.refused).toBeUndefined();
        expect(ran).toContainEqual(["cancel", "--stack", "prod", "--yes"]);
        expect(formatRecover(r)).toMatch(
            /Removed 1 stale lock\(s\) of stack prod: pid 4242 on runner-1 .*\nNo pending operations\.\nRan: pulumi cancel --stack prod --yes\nNext: pulumi up --stack prod/,
        );
    });

    it("refuses while the pulumi that took the lock still runs", () => {
        lock(4242, "runner-1");
        const r = recover("prod", pulumi, host([4242]));
        expect(r.refused).toMatch(/locked by pid 4242 on runner-1 .* is still running: wait for it to end/);
        expect(ran.some((a) => a[0] === "cancel")).toBe(false);
    });

    it("refuses a lock of another host, which it cannot check, with the command for a person", () => {
        lock(4242, "runner-2");
        const r = recover("prod", pulumi, host([]));
        expect(r.refused).toMatch(/this host cannot check\. Once you are sure no update runs: pulumi cancel --stack prod --yes/);
        expect(ran.some((a) => a[0] === "cancel")).toBe(false);
    });

    it("stops on a lock file it cannot read, instead of treating it as stale", () => {
        lock(4242, "runner-1", "{not json");
        expect(() => recover("prod", pulumi, host([]))).toThrow(RecoverError);
        expect(ran.some((a) => a[0] === "cancel")).toBe(false);
    });

    it("clears pending creates with a refresh; leaves other pending operations to the next up", () => {
        pending = [
            { type: "creating", resource: { urn: "urn:pulumi:prod::titan-secrets::kubernetes:core/v1:Secret::titan-hmac-presenters" } },
            { type: "updating", resource: { urn: "urn:pulumi:prod::titan-secrets::kubernetes:apps/v1:Deployment::titan-sentinel" } },
        ];
        const r = recover("prod", pulumi, host([]));
        expect(ran).toContainEqual(["refresh", "--stack", "prod", "--clear-pending-creates", "--yes", "--skip-preview"]);
        expect(formatRecover(r)).toMatch(
            /Pending operations of the interrupted up: creating titan-hmac-presenters, updating titan-sentinel\./,
        );
    });

    it("touches only this project's locks: another project's stack of the same name is left alone", () => {
        lock(4242, "runner-1", undefined, "other-project");
        const r = recover("prod", pulumi, host([]));
        expect(r.removedLocks).toEqual([]);
        expect(ran.some((a) => a[0] === "cancel")).toBe(false);
        expect(formatRecover(r)).toContain("Stack prod holds no stale lock.");
        // The older layout (one namespace of stacks, .pulumi/locks/<stack>/) is this backend's only project.
        const legacy = join(backend, ".pulumi", "locks", "prod");
        mkdirSync(legacy, { recursive: true });
        writeFileSync(join(legacy, "1.json"), JSON.stringify({ pid: 1, hostname: "runner-1" }));
        expect(recover("prod", pulumi, host([])).removedLocks.map((l) => l.pid)).toEqual([1]);
    });

    it("finds the locks of pulumi login --local (file://~, the home folder); a URL that is no folder here, or none, is 'cannot read'", () => {
        lock(4242, "runner-1");
        const at =
            (url: unknown): PulumiRunner =>
            (args) =>
                args[0] === "whoami" ? { status: 0, stdout: JSON.stringify({ url }), stderr: "" } : pulumi(args);
        const home = process.env.HOME;
        process.env.HOME = backend;
        try {
            expect(recover("prod", at("file://~"), host([])).removedLocks.map((l) => l.pid)).toEqual([4242]);
        } finally {
            process.env.HOME = home;
        }
        expect(() => recover("prod", at("file://build-host/state"), host([]))).toThrow(
            new RecoverReadError("cannot read the stack's locks: the backend URL file://build-host/state is not a folder of this host"),
        );
        for (const url of [undefined, "", 7])
            expect(() => recover("prod", at(url), host([]))).toThrow(
                new RecoverReadError("cannot read the stack: pulumi whoami --json names no backend URL, so its locks cannot be found"),
            );
    });

    it("never says 'no stale lock' of a backend whose locks it does not look at", () => {
        const cloud: PulumiRunner = (args) =>
            args[0] === "whoami" ? { status: 0, stdout: JSON.stringify({ url: "https://api.pulumi.com" }), stderr: "" } : pulumi(args);
        const text = formatRecover(recover("prod", cloud, host([])));
        expect(text).toContain("The locks of stack prod are kept by its backend, not in files here: not checked.");
        expect(text).not.toContain("holds no stale lock");
    });

    it("refuses a stack name that could walk out of the locks folder", () => {
        expect(() => recover("../prod", pulumi, host([]))).toThrow(/is not a stack name/);
        expect(ran.some((a) => a[0] === "cancel")).toBe(false);
    });

    it("a backend that does not answer is 'cannot read' (exit 4), never 'no stale lock'", () => {
        const expired: PulumiRunner = (args) => {
            ran.push(args);
            return { status: 255, stdout: "", stderr: "error: [401] Unauthorized: your access token has expired\n" };
        };
        expect(() => recover("prod", expired, host([]))).toThrow(
            new RecoverReadError("cannot read the stack: pulumi whoami failed: error: [401] Unauthorized: your access token has expired"),
        );
        const garbled: PulumiRunner = (args) => (args[0] === "whoami" ? pulumi(args) : { status: 0, stdout: "<html>", stderr: "" });
        expect(() => recover("prod", garbled, host([]))).toThrow(
            new RecoverReadError("cannot read the stack: pulumi stack export printed no JSON"),
        );
        // Through the CLI: exit 4 with the reason.
        mkdirSync(join(backend, "bin"));
        writeFileSync(join(backend, "bin", "pulumi"), "#!/bin/sh\nexit 99\n");
        chmodSync(join(backend, "bin", "pulumi"), 0o755);
        let err = "";
        const io: Io = {
            out: () => undefined,
            err: (t) => void (err += t),
            repo: backend,
            run: (_cmd, args) => expired(args),
            writeFile: () => undefined,
            now: () => new Date(),
            hostname: "runner-1",
            pulumiRunning: () => false,
            env: { PATH: join(backend, "bin") },
        };
        expect(main(["recover", "--stack", "prod", "--backend", "login"], io)).toBe(EXIT.cannotRead);
        expect(err).toBe("rotate: cannot read the stack: pulumi whoami failed: error: [401] Unauthorized: your access token has expired\n");
    });
});
