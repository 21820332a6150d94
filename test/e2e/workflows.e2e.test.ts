// The pull-request path, run rather than linted: the shell steps of
// preview.yml and rotation-due.yml, and their github-script steps with a
// recording GitHub client, against a scratch git repository (a base commit,
// and a pull-request commit in which `rotate advance` moves titan-hmac on
// prod) and a second file backend standing in for the team's, where the prod
// stack holds its ledger. What cannot run here is the pulumi/actions step
// itself (a JavaScript action that downloads the CLI); the comment it leaves
// is given to the script that adds the rotation plan to it.

import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { engineMissing } from "../../harness/engine";
import { PROD_EXCHANGE_KEYS_YAML, REPO } from "../../harness/stackFiles";
import { seedStack, teamBackend, TeamBackend } from "../../harness/teamBackend";
import { RunContext, Workflow, readWorkflow, runGithubScript, runStep, stepOf } from "../../harness/workflow";
import { DAY_MS, Ledger, parseConfig, planRotation, rawConfigFrom } from "../../model";

function git(cwd: string, ...args: string[]): string {
    const r = spawnSync("git", args, {
        cwd,
        encoding: "utf8",
        env: {
            ...process.env,
            GIT_AUTHOR_NAME: "t",
            GIT_AUTHOR_EMAIL: "t@example",
            GIT_COMMITTER_NAME: "t",
            GIT_COMMITTER_EMAIL: "t@example",
        },
    });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
}

/** A GitHub client that records what the scripts do to comments and issues. */
function recordingGithub(
    comments: { id: number; body: string }[],
    issues: { number: number; title: string; body: string; state: string }[],
) {
    const calls: string[] = [];
    const rest = {
        issues: {
            listComments: async () => ({ data: comments }),
            updateComment: async (a: { comment_id: number; body: string }) => {
                calls.push(`updateComment ${a.comment_id}`);
                comments.find((c) => c.id === a.comment_id)!.body = a.body;
            },
            createComment: async (a: { issue_number: number; body: string }) => {
                calls.push(`createComment ${a.issue_number}`);
                comments.push({ id: comments.length + 100, body: a.body });
            },
            listForRepo: async () => ({ data: issues.filter((i) => i.state === "open") }),
            create: async (a: { title: string; body: string }) => {
                calls.push("create");
                issues.push({ number: issues.length + 1, title: a.title, body: a.body, state: "open" });
            },
            update: async (a: { issue_number: number; title?: string; body?: string; state?: string }) => {
                calls.push(`update ${a.issue_number}`);
                Object.assign(
                    issues.find((i) => i.number === a.issue_number)!,
                    Object.fromEntries(Object.entries(a).filter(([k]) => k !== "issue_number")),
                );
            },
        },
    };
    return { calls, github: { rest, paginate: async (f: () => Promise<{ data: unknown }>) => (await f()).data } };
}

const context = {
    repo: { owner: "titan-trading", repo: "titan-secrets" },
    issue: { number: 42 },
    serverUrl: "https://github.com",
    runId: 7,
};

describe("the workflows' steps on a scratch repository and the team's backend", { timeout: 600_000 }, () => {
    let dir: string;
    let repo: string;
    let base: string;
    let team: TeamBackend;
    let ctx: RunContext;
    let preview: Workflow;
    let due: Workflow;

    beforeAll(() => {
        const missing = engineMissing();
        if (missing) throw new Error(missing);
        dir = mkdtempSync(join(tmpdir(), "titan-workflows-"));
        repo = join(dir, "repo");
        git(dir, "clone", "--quiet", REPO, repo);
        for (const link of ["node_modules", ".engine", "policy/node_modules"]) symlinkSync(join(REPO, link), join(repo, link));
        // The team's prod file holds its exchange keys (secure values; the committed copy does not)
        // and the salt of its secrets provider; its backend holds prod at stable g1, keys made 100 days ago.
        appendFileSync(join(repo, "Pulumi.prod.yaml"), PROD_EXCHANGE_KEYS_YAML);
        team = teamBackend(join(dir, "team"));
        const config = (parse(readFileSync(join(repo, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
        const then = new Date(Date.now() - 100 * DAY_MS);
        const ledger: Ledger = planRotation(parseConfig(rawConfigFrom(config), "prod"), {}, then).ledger;
        seedStack(team, repo, "prod", ledger);
        git(repo, "commit", "--quiet", "-am", "the team's prod stack file");
        base = git(repo, "rev-parse", "HEAD");

        // The pull request: one rotation step, written by rotate.
        const advance = spawnSync("npm", ["run", "--silent", "rotate", "--", "advance", "titan-hmac", "--stack", "prod"], {
            cwd: repo,
            env: { ...process.env, ...team.env },
            encoding: "utf8",
        });
        if (advance.status !== 0) throw new Error(`rotate advance: ${advance.stderr}${advance.stdout}`);
        git(repo, "commit", "--quiet", "-am", "titan-hmac: overlap at generation 2");

        mkdirSync(join(dir, "runner"));
        preview = readWorkflow(join(REPO, ".github", "workflows", "preview.yml"));
        due = readWorkflow(join(REPO, ".github", "workflows", "rotation-due.yml"));
        ctx = {
            workspace: repo,
            temp: join(dir, "runner"),
            env: { ...team.env, HOME: process.env.HOME ?? dir },
            expressions: {
                "github.event.pull_request.base.sha": base,
                "matrix.stack": "prod",
                "github.event.pull_request.head.repo.full_name == github.repository": "true",
                "secrets.PULUMI_ACCESS_TOKEN": "",
                "secrets.VAULT_ADDR": "",
                "secrets.VAULT_TOKEN": "",
                "matrix.stack == 'dev' && 'titan-dev' || secrets.PULUMI_CONFIG_PASSPHRASE": team.env.PULUMI_CONFIG_PASSPHRASE,
                "secrets.PULUMI_CONFIG_PASSPHRASE": team.env.PULUMI_CONFIG_PASSPHRASE,
                "steps.preview.outcome": "success",
            },
        };
    }, 300_000);
    afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

    it("preview.yml: the changed-stack detection picks prod only; a change to the program picks every stack", () => {
        const r = runStep(preview, "changes", stepOf(preview, "changes", "stacks"), ctx);
        expect(r.status, r.stderr).toBe(0);
        expect(r.outputs.stacks).toBe('["prod"]');

        // A program change on top: every stack.
        appendFileSync(join(repo, "index.ts"), "\n");
        git(repo, "commit", "--quiet", "-am", "touch the program");
        try {
            const all = runStep(preview, "changes", stepOf(preview, "changes", "stacks"), ctx);
            // Every stack but the lab's, which only a laptop's local control planes run.
            expect(JSON.parse(all.outputs.stacks).sort()).toEqual(["dev", "local", "prod"]);
        } finally {
            git(repo, "reset", "--quiet", "--hard", "HEAD~1");
        }
    });

    it("preview.yml: the rotation plan reads prod's ledger from the team's backend and comes out as the comment shows it", async () => {
        const backend = runStep(preview, "preview", stepOf(preview, "preview", "backend"), { ...ctx, env: { ...ctx.env, STACK: "prod" } });
        expect(backend.outputs.url).toBe("");
        const plan = runStep(preview, "preview", stepOf(preview, "preview", "rotation plan"), {
            ...ctx,
            expressions: { ...ctx.expressions, "steps.backend.outputs.url": backend.outputs.url },
        });
        expect(plan.status, plan.stderr).toBe(0);
        // read from the team's backend by rotate itself (exit 4 if it could not)
        expect(plan.stdout).toMatch(/<sub>ledger from the outputs of stack prod in the backend of PULUMI_BACKEND_URL \(file:\/\/\S+\)\./);
        expect(plan.stdout).toMatch(/titan-hmac.*stable at generation 1.*overlap at generation 2/);
        expect(plan.stdout).toMatch(/`titan-brain` \(wave 2\)/);
        expect(plan.stdout).toContain("```mermaid\nflowchart LR\n");

        // pulumi/actions left its comment; the script adds the plan to it.
        const heading = "#### :tropical_drink: `preview` on titan-secrets/prod";
        const comments = [{ id: 1, body: `${heading}\n\n<details>\n<summary>Pulumi report</summary>\n\n    ~ 3 to update\n</details>` }];
        const { calls, github } = recordingGithub(comments, []);
        await runGithubScript(preview, "preview", stepOf(preview, "preview", "add the plan to the preview comment"), ctx, github, context);
        expect(calls).toEqual(["updateComment 1"]);
        const body = comments[0].body;
        expect(body.startsWith(heading)).toBe(true);
        expect(body).toContain("<!-- titan-secrets: rotate plan -->");
        expect(body).toContain(readFileSync(join(ctx.temp, "rotate-plan.md"), "utf8").trim());
    });

    it("preview.yml on dev: the policy-checked preview and the plan come out in one comment", async () => {
        const devCtx = { ...ctx, expressions: { ...ctx.expressions, "matrix.stack": "dev" } };
        const backend = runStep(preview, "preview", stepOf(preview, "preview", "backend"), {
            ...devCtx,
            env: { ...devCtx.env, STACK: "dev" },
        });
        expect(backend.outputs.url).toBe(`file://${repo}/.pulumi-dev/backend`);
        // The pulumi/actions step (preview, upsert, policyPacks: policy) run by its stand-in here:
        // the same pack through policy/preview.sh, against the backend the step chose.
        const state = join(repo, ".pulumi-dev");
        const env = { ...process.env, PULUMI_STATE_DIR: state, PULUMI_CONFIG_PASSPHRASE: "titan-dev" };
        const run = (args: string[]) => spawnSync("bash", args, { cwd: repo, env, encoding: "utf8", timeout: 300_000 });
        const init = run(["scripts/pulumi.sh", "stack", "init", "dev", "--non-interactive"]);
        expect(init.status, init.stderr).toBe(0);
        const previewRun = run(["policy/preview.sh", "--stack", "dev", "--diff", "--non-interactive"]);
        expect(previewRun.status, previewRun.stdout + previewRun.stderr).toBe(0);
        expect(previewRun.stdout).toMatch(/Policy Packs run:\s+Name\s+Version\s+titan-secrets\|local\|\S+\s+0\.1\.0/);
        expect(previewRun.stdout).not.toMatch(/mandatory|advisory/); // no policy reported anything

        const plan = runStep(preview, "preview", stepOf(preview, "preview", "rotation plan"), {
            ...devCtx,
            env: { ...devCtx.env, PATH: process.env.PATH ?? "" }, // dev: the workspace's fresh backend, no team login
            expressions: { ...devCtx.expressions, "steps.backend.outputs.url": backend.outputs.url },
        });
        expect(plan.status, plan.stderr).toBe(0);
        const heading = "#### :tropical_drink: `preview` on titan-secrets/dev";
        const comments = [
            {
                id: 3,
                body: `${heading}\n\n<details>\n<summary>Pulumi report</summary>\n\n\`\`\`\n${previewRun.stdout}\n\`\`\`\n</details>`,
            },
        ];
        const { calls, github } = recordingGithub(comments, []);
        await runGithubScript(
            preview,
            "preview",
            stepOf(preview, "preview", "add the plan to the preview comment"),
            devCtx,
            github,
            context,
        );
        expect(calls).toEqual(["updateComment 3"]);
        const body = comments[0].body;
        expect(body).toContain("Policy Packs run:");
        expect(body.indexOf("Pulumi report")).toBeLessThan(body.indexOf("<!-- titan-secrets: rotate plan -->"));
        expect(body).toContain("### Rotation plan: stack `dev`");
    });

    it("rotation-due.yml: status from the team's backend opens one issue naming the overdue secret and the command", async () => {
        const status = runStep(due, "status", stepOf(due, "status", "rotate status"), ctx);
        expect(status.status, status.stderr).toBe(0);
        const issues: { number: number; title: string; body: string; state: string }[] = [];
        const { calls, github } = recordingGithub([], issues);
        await runGithubScript(due, "status", stepOf(due, "status", "open or update the issue"), ctx, github, context);
        expect(calls, issues[0]?.body).toEqual(["create"]);
        expect(issues[0].title).toMatch(/^Secret rotation due \(\d+\)$/);
        // The applied stage from the team's ledger (the pull request's overlap is not applied yet).
        expect(issues[0].body).toContain("| `prod` | `titan-hmac` | hmac | stable at generation 1 | 100 days |");
        expect(issues[0].body).toMatch(/\| :red_circle: overdue \| `npm run rotate -- advance titan-hmac --stack prod` \|/);
        expect(issues[0].body).not.toContain("`titan-db`"); // a password is due after 180 days, not 90
        // A second run updates the same issue.
        await runGithubScript(due, "status", stepOf(due, "status", "open or update the issue"), ctx, github, context);
        expect(calls).toEqual(["create", "update 1"]);
    });
});
