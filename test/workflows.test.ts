// The GitHub workflows lint clean with actionlint (built from its Go module
// by tools/actionlint/build.sh into .engine/bin), and do what the project
// promises: preview with the policy pack and the rotation plan on pull
// requests, a daily rotation-due issue.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "../harness/stackFiles";

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
