// Non-root pods. A service that declares `runAs` gets a pod security context
// (non-root user, its group as fsGroup) and its files at 0440; every other
// service keeps 0400. What the kubelet would mount is computed from the pod
// spec and the Secret objects (harness/kubelet.ts), written to a folder with
// the kubelet's owner and mode, and read as the pod's user: the non-root
// service can read its password file; a root-only file refuses that user
// (the negative control); no file is ever world-readable.

import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize, projectedFiles, readAs } from "../harness/kubelet";
import { ProgramRun, T, byType, mockKeyHex, one, reveal, runProgram } from "./support/mocks";

const T0 = new Date("2026-11-01T00:00:00Z");
const USER = 10001;
const GROUP = 10002;

const config = (brain: Record<string, unknown> = { runAs: { user: USER, group: GROUP } }) => ({
    kubernetes: { namespace: "titan", renderDir: "rendered" },
    services: {
        "titan-brain": { image: "ghcr.io/titan/brain:1.0.0", ...brain },
        "titan-ai-quant": { image: "ghcr.io/titan/ai-quant:1.0.0" },
        "titan-redis": { image: "redis:7", args: ["/etc/redis/redis.conf"] },
    },
    secrets: {
        cache: {
            kind: "password",
            generation: 1,
            stage: "stable",
            backend: { type: "redis", username: "titan" },
            verifiers: ["titan-redis"],
            presenters: ["titan-brain", "titan-ai-quant"],
        },
    },
});

/** A Secret object's data as the kubelet reads it (stringData, or base64 data). */
function secretData(run: ProgramRun): (name: string) => Record<string, string> {
    return (name) => {
        const obj = byType(run, T.secret).find((s) => s.inputs.metadata.name === name);
        if (!obj) throw new Error(`no Secret object ${name}`);
        const out: Record<string, string> = { ...(reveal(obj.inputs.stringData) ?? {}) };
        for (const [k, v] of Object.entries(reveal(obj.inputs.data) ?? {})) out[k] = Buffer.from(String(v), "base64").toString("utf8");
        return out;
    };
}

const podSpec = (run: ProgramRun, service: string) => one(run, T.deployment, service).inputs.spec.template.spec;

describe("non-root pods", () => {
    let run: ProgramRun;
    let dir: string;
    beforeAll(async () => {
        run = await runProgram(config(), {}, T0);
        if (run.error) throw run.error;
        dir = mkdtempSync(join(tmpdir(), "titan-kubelet-"));
        chmodSync(dir, 0o755); // the pod's user must be able to walk to its files
    });
    afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

    it("a service with runAs runs as that user, its group owns the files (fsGroup), mode 0440", () => {
        const brain = podSpec(run, "titan-brain");
        expect(brain.securityContext).toEqual({ runAsNonRoot: true, runAsUser: USER, runAsGroup: GROUP, fsGroup: GROUP });
        const projected = brain.volumes[0].projected;
        expect(projected.defaultMode).toBe(0o440);
        expect(projected.sources[0].secret.items.map((i: { mode: number }) => i.mode)).toEqual([0o440, 0o440]);
        // The others are unchanged: root, 0400, no security context.
        const quant = podSpec(run, "titan-ai-quant");
        expect(quant.securityContext).toBeUndefined();
        expect(quant.volumes[0].projected.defaultMode).toBe(0o400);
    });

    it("the non-root user reads its password file as the kubelet would mount it; no file is world-readable", () => {
        const files = projectedFiles(podSpec(run, "titan-brain"), secretData(run));
        expect(files.map((f) => [f.path, f.mode.toString(8), f.gid])).toEqual([
            ["/run/secrets/redis_password", "440", GROUP],
            ["/run/secrets/redis_username", "440", GROUP],
        ]);
        const root = join(dir, "brain");
        materialize(root, files);
        const read = readAs(join(root, "run/secrets/redis_password"), USER, GROUP);
        expect(read).toEqual({ ok: true, text: mockKeyHex("cache-g1") });
        // Another non-root user outside the group: refused.
        expect(readAs(join(root, "run/secrets/redis_password"), USER + 7, USER + 7)).toEqual({ ok: false, code: "EACCES" });

        for (const service of ["titan-brain", "titan-ai-quant", "titan-redis"]) {
            for (const f of projectedFiles(podSpec(run, service), secretData(run))) {
                expect(f.mode & 0o007, `${service} ${f.path} is world-readable`).toBe(0);
            }
        }
    });

    it("negative control: the same user cannot read a root-only (0400) file, as it could not before runAs existed", () => {
        const files = projectedFiles(podSpec(run, "titan-ai-quant"), secretData(run));
        expect(files[0].mode).toBe(0o400);
        const root = join(dir, "quant");
        materialize(root, files);
        expect(readAs(join(root, files[0].path.slice(1)), USER, GROUP)).toEqual({ ok: false, code: "EACCES" });
        expect(readAs(join(root, files[0].path.slice(1)), 0, 0)).toEqual({ ok: true, text: mockKeyHex("cache-g1") });
    });

    it("runAs with user 0 (root) is refused with the key, what was found and what is allowed", async () => {
        const bad = await runProgram(config({ runAs: { user: 0, group: GROUP } }), {}, T0);
        expect(bad.error?.message).toMatch(/titan-secrets:services\.titan-brain\.runAs\.user: found 0/);
    });
});
