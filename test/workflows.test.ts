// The GitHub workflows lint clean with actionlint (built from its Go module
// by tools/actionlint/build.sh into .engine/bin), and do what the project
// promises: preview with the policy pack and the rotation plan on pull
// requests, a daily rotation-due issue.

import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "../harness/stackFiles";
import { RunContext, readWorkflow, runGithubScript, runStep, stepOf } from "../harness/workflow";
import { DAY_MS, parseConfig, planRotation, rawConfigFrom } from "../model";

const ACTIONLINT = join(REPO, ".engine", "bin", "actionlint");
const WORKFLOWS = join(REPO, ".github", "workflows");

describe("GitHub workflows", () => {
    it("lint clean with actionlint", () => {
        if (!existsSync(ACTIONLINT)) {
            throw new Error(
                `${ACTIONLINT} is missing: build it with bash tools/actionlint/build.sh (Go module github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)`,
            );
        }
        const files = readdirSync(WORKFLOWS)
            .filter((f) => /\.ya?ml$/.test(f))
            .map((f) => join(WORKFLOWS, f));
        expect(files.length).toBeGreaterThan(0);
        const r = spawnSync(ACTIONLINT, ["-no-color", ...files], { cwd: REPO, encoding: "utf8" });
        expect(r.error).toBeUndefined();
        expect(`${r.stdout}${r.stderr}`).toBe("");
        expect(r.status).toBe(0);
    });

    it("preview.yml previews each changed stack with the policy pack and adds the rotation plan to the same comment", () => {
        const wf = parse(readFileSync(join(WORKFLOWS, "preview.yml"), "utf8"));
        expect(wf.on.pull_request.paths).toEqual(expect.arrayContaining(["index.ts", "components/**", "Pulumi.*.yaml", "policy/**"]));
        const steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] = wf.jobs.preview.steps;
        const preview = steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        expect(preview?.with).toMatchObject({ command: "preview", policyPacks: "policy", "comment-on-pr": true });
        expect(steps.some((s) => s.run?.includes('npm run --silent rotate -- plan --stack "$STACK" --markdown'))).toBe(true);
        expect(wf.jobs.test.steps.some((s: { run?: string }) => s.run?.includes("bash scripts/setup.sh"))).toBe(true);
        expect(wf.jobs.test.steps.some((s: { run?: string }) => s.run === "npm test")).toBe(true);
    });

    it("rotation-due.yml runs on a schedule from rotate status --json", () => {
        const wf = parse(readFileSync(join(WORKFLOWS, "rotation-due.yml"), "utf8"));
        expect(wf.on.schedule).toHaveLength(1);
        const text = readFileSync(join(WORKFLOWS, "rotation-due.yml"), "utf8");
        expect(text).toContain('rotate -- status --stack "$stack" --json');
        expect(text).toContain("actions/github-script@");
    });
});

type Issue = { number: number; title: string; body: string; state: string };

/** A GitHub client that records what the rotation-due script does to issues. */
function recordingIssues(issues: Issue[]) {
    const calls: string[] = [];
    const issuesApi = {
        listForRepo: async () => ({ data: issues.filter((i) => i.state === "open") }),
        create: async (a: { title: string; body: string }) => {
            calls.push("create");
            issues.push({ number: issues.length + 1, title: a.title, body: a.body, state: "open" });
        },
        update: async (a: { issue_number: number; title?: string; body?: string; state?: string }) => {
            calls.push(`update ${a.issue_number}${a.state ? ` ${a.state}` : ""}`);
            Object.assign(
                issues.find((i) => i.number === a.issue_number)!,
                Object.fromEntries(Object.entries(a).filter(([k]) => k !== "issue_number")),
            );
        },
        createComment: async (a: { issue_number: number }) => void calls.push(`comment ${a.issue_number}`),
    };
    return { calls, github: { rest: { issues: issuesApi } } };
}

const CONTEXT = { repo: { owner: "titan-trading", repo: "titan-secrets" }, serverUrl: "https://github.com", runId: 7 };

// rotation-due.yml's own steps, run here (harness/workflow.ts) with a stand-in
// `pulumi` on PATH for the team's backend: the "rotate status" step as the
// runner runs it, then the github-script step with a recording client.
describe("rotation-due.yml: a ledger that cannot be read keeps the issue open", { timeout: 120_000 }, () => {
    const due = readWorkflow(join(WORKFLOWS, "rotation-due.yml"));
    let dir: string;
    let ctx: RunContext;
    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "titan-rotation-due-"));
        mkdirSync(join(dir, "bin"));
        mkdirSync(join(dir, "runner"));
        // The team's backend: the prod ledger from a file, or an expired token.
        writeFileSync(
            join(dir, "bin", "pulumi"),
            '#!/bin/sh\nif [ -n "$FAKE_LEDGER" ]; then cat "$FAKE_LEDGER"; exit 0; fi\necho "error: [401] Unauthorized: your access token has expired" >&2\nexit 255\n',
        );
        chmodSync(join(dir, "bin", "pulumi"), 0o755);
        ctx = {
            workspace: REPO, // read only: the step reads Pulumi.prod.yaml and writes under RUNNER_TEMP
            temp: join(dir, "runner"),
            env: { PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}`, HOME: process.env.HOME ?? dir },
            expressions: { "secrets.PULUMI_ACCESS_TOKEN": "", "secrets.PULUMI_CONFIG_PASSPHRASE": "" },
        };
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** prod's ledger as an up `daysAgo` days ago left it. */
    function prodLedger(daysAgo: number): string {
        const config = (parse(readFileSync(join(REPO, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
        const ledger = planRotation(parseConfig(rawConfigFrom(config), "prod"), {}, new Date(Date.now() - daysAgo * DAY_MS)).ledger;
        const path = join(dir, "ledger.json");
        writeFileSync(path, JSON.stringify(ledger));
        return path;
    }

    const statusStep = (env: Record<string, string> = {}) =>
        runStep(due, "status", stepOf(due, "status", "rotate status"), { ...ctx, env: { ...ctx.env, ...env } });
    const issueStep = (issues: Issue[]) => {
        const rec = recordingIssues(issues);
        return { rec, run: runGithubScript(due, "status", stepOf(due, "status", "open or update the issue"), ctx, rec.github, CONTEXT) };
    };

    it("an expired token: the open issue is updated with a cannot-read row, never closed, and the run fails", async () => {
        const status = statusStep();
        expect(status.status, status.stderr).toBe(0); // the step records it; the issue step fails the run
        expect(status.stdout).toContain("::error::rotate status --stack prod exited 4 (cannot read its ledger)");
        const report = JSON.parse(readFileSync(join(ctx.temp, "status", "prod.json"), "utf8"));
        expect(report).toMatchObject({ cannotRead: true });
        const issues: Issue[] = [{ number: 1, title: "Secret rotation due (1)", body: "titan-hmac overdue", state: "open" }];
        const { rec, run } = issueStep(issues);
        await expect(run).rejects.toThrow("cannot read the ledger of prod: the issue says so");
        expect(rec.calls).toEqual(["update 1"]);
        expect(issues[0].state).toBe("open");
        expect(issues[0].title).toBe("Secret rotation due (0); cannot read prod");
        expect(issues[0].body).toContain("**Cannot read the ledger of `prod`**");
        expect(issues[0].body).toMatch(
            /\| `prod` \| \(every secret\) \| .* \| :warning: cannot read \| cannot read the ledger of stack prod from the backend pulumi is logged in to: error: \[401\] Unauthorized: your access token has expired\./,
        );
    });

    it("preview.yml: the rotation plan of a stack whose ledger cannot be read is no plan, said in the comment, and the step fails", () => {
        const preview = readWorkflow(join(WORKFLOWS, "preview.yml"));
        const r = runStep(preview, "preview", stepOf(preview, "preview", "rotation plan"), {
            ...ctx,
            expressions: {
                ...ctx.expressions,
                "matrix.stack": "prod",
                "github.event.pull_request.head.repo.full_name == github.repository": "true",
                "matrix.stack == 'dev' && 'titan-dev' || secrets.PULUMI_CONFIG_PASSPHRASE": "",
                "steps.backend.outputs.url": "",
            },
        });
        expect(r.status).not.toBe(0);
        const plan = readFileSync(join(ctx.temp, "rotate-plan.md"), "utf8");
        expect(plan).toBe(
            "### Rotation plan: stack `prod`\n\n:x: **No rotation plan** (rotate plan exited 4): cannot read the ledger of stack prod from the backend pulumi is logged in to: error: [401] Unauthorized: your access token has expired. " +
                "Without it no secret's age, due date or guard can be checked. Fix the access, or pass the ledger with --ledger FILE (pulumi stack output --stack prod ledger --json), or --no-ledger to treat every secret as first seen\n",
        );
    });

    it("no issue open and no report at all: one is opened with a cannot-read row", async () => {
        const issues: Issue[] = [];
        const { rec, run } = issueStep(issues); // the status step never ran (e.g. npm ci failed)
        await expect(run).rejects.toThrow("cannot read the ledger of prod");
        expect(rec.calls).toEqual(["create"]);
        expect(issues[0].body).toContain("| `prod` | (every secret) | | | | | :warning: cannot read | rotate status did not run |");
    });

    it("STACKS listing no stack reads nothing: the open issue is left open and the run fails", async () => {
        const none = { ...due, env: { ...due.env, STACKS: " " } };
        const issues: Issue[] = [{ number: 1, title: "Secret rotation due (1)", body: "titan-hmac overdue", state: "open" }];
        const rec = recordingIssues(issues);
        const run = runGithubScript(none, "status", stepOf(none, "status", "open or update the issue"), ctx, rec.github, CONTEXT);
        await expect(run).rejects.toThrow("STACKS lists no stack: no ledger was read");
        expect(rec.calls).toEqual([]);
        expect(issues[0].state).toBe("open");
    });

    it("a readable ledger: an overdue secret opens the issue; nothing due closes it", async () => {
        expect(statusStep({ FAKE_LEDGER: prodLedger(100) }).status).toBe(0);
        const issues: Issue[] = [];
        const first = issueStep(issues);
        await first.run;
        expect(first.rec.calls).toEqual(["create"]);
        expect(issues[0].title).toMatch(/^Secret rotation due \(\d+\)$/);
        expect(issues[0].body).toMatch(
            /\| `prod` \| `titan-hmac` \| hmac \| stable at generation 1 \| 100 days \| .* \| :red_circle: overdue \|/,
        );

        expect(statusStep({ FAKE_LEDGER: prodLedger(0) }).status).toBe(0);
        const second = issueStep(issues);
        await second.run;
        expect(second.rec.calls).toEqual(["comment 1", "update 1 closed"]);
        expect(issues[0].state).toBe("closed");
    });
});
