// The tools read prod from the team's backend, not from the repository's:
// a second file backend stands in for it (its own PULUMI_BACKEND_URL,
// PULUMI_HOME and passphrase), reached only through the `pulumi` on PATH, as
// an operator's logged-in CLI would be. The prod stack there holds a ledger
// output and a key resource; `rotate status --stack prod` and `check-logs
// --stack prod` must read them from it. The repository's own backend has no
// prod stack, so nothing can come from there by mistake.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main as checkLogs, Io as CheckLogsIo } from "../../cli/check-logs/cli";
import { Runner } from "../../cli/common";
import { Io, main as rotate } from "../../cli/rotate/cli";
import { engineMissing } from "../../harness/engine";
import { seedStack, teamBackend } from "../../harness/teamBackend";
import { REPO } from "../../harness/stackFiles";
import { Ledger, parseConfig, planRotation, rawConfigFrom } from "../../model";

const T0 = new Date("2026-11-01T00:00:00Z");
const KEY = "f3a9c1d27b604e58a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4"; // the "team's" key value

describe("rotate and check-logs on the team's backend", { timeout: 300_000 }, () => {
    let dir: string;
    let project: string;
    let env: NodeJS.ProcessEnv;
    let ledger: Ledger;
    const run: Runner = (cmd, args, cwd) => {
        const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 120_000 });
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.error ? String(r.error) : (r.stderr ?? "") };
    };

    beforeAll(() => {
        const missing = engineMissing();
        if (missing) throw new Error(missing);
        dir = mkdtempSync(join(tmpdir(), "titan-team-"));
        // The operator's checkout: the project and the prod stack file, no scripts/pulumi.sh.
        project = join(dir, "checkout");
        mkdirSync(project);
        for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml"]) copyFileSync(join(REPO, f), join(project, f));
        const team = teamBackend(join(dir, "team"));
        env = team.env;
        // The prod stack as an up would have left it: the ledger output and one key, secret.
        const config = (parse(readFileSync(join(REPO, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
        ledger = planRotation(parseConfig(rawConfigFrom(config), "prod"), {}, T0).ledger;
        seedStack(team, project, "prod", ledger, { "titan-hmac-g1": KEY });
    }, 120_000);
    afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

    function rotateIo(): Io & { text: () => string } {
        let out = "";
        return {
            out: (t) => void (out += t),
            err: (t) => void (out += t),
            repo: project,
            run,
            writeFile: () => {
                throw new Error("status writes nothing");
            },
            now: () => new Date(T0.getTime() + 3_600_000),
            hostname: "test",
            pulumiRunning: () => false,
            env,
            text: () => out,
        };
    }

    it("rotate status --stack prod reads the ledger from the logged-in backend", () => {
        const io = rotateIo();
        expect(rotate(["status", "--stack", "prod", "--json"], io), io.text()).toBe(0);
        const report = JSON.parse(io.text());
        expect(report.ledger.source).toBe("stack");
        expect(report.ledger.note).toContain(`ledger from the outputs of stack prod in the backend of PULUMI_BACKEND_URL (file://${dir}`);
        // The rows are the team's: applied at T0, one hour before the clock.
        const hmac = report.secrets.find((s: { secret: string }) => s.secret === "titan-hmac");
        expect(hmac.firstSeen).toBe(false);
        expect(hmac.applied.at).toBe(ledger["titan-hmac"].stageAppliedAt);
        expect(hmac.createdAt).toBe(T0.toISOString());
    });

    it("without a pulumi on PATH it says it cannot read the ledger and exits 4 (never first seen, never the repository's backend)", () => {
        const io = rotateIo();
        const saved = env;
        env = { ...env, PATH: "/nonexistent" };
        try {
            expect(rotate(["status", "--stack", "prod", "--json"], { ...io, env }), io.text()).toBe(4);
        } finally {
            env = saved;
        }
        // The JSON on stdout, then the same sentence on stderr (this io writes both to one text).
        expect(io.text()).toContain('"cannotRead": true');
        expect(io.text()).toMatch(
            /\nrotate: cannot read the ledger of stack prod from the backend of PULUMI_BACKEND_URL .*: no pulumi on PATH/,
        );
        expect(io.text()).not.toContain('"firstSeen"');
    });

    it("check-logs --stack prod searches for the team's key values", async () => {
        let out = "";
        const stdin = new PassThrough();
        stdin.end(`2026-11-01T00:00:00Z titan-brain signing with ${KEY}\nclean line\n`);
        const io: CheckLogsIo = {
            out: (t) => void (out += t),
            err: (t) => void (out += t),
            repo: project,
            run,
            env,
            stdin,
            stdinIsTTY: false,
        };
        expect(await checkLogs(["--stack", "prod", "-"], io)).toBe(1);
        expect(out).toContain("<stdin>:1:");
        expect(out).toContain("secret=titan-hmac-g1 encoding=raw");
        expect(out).not.toContain(KEY);
    });
});
