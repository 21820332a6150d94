// Type tokens are titan-secrets:<module>:<Class> (HmacKeyRing was
// hmac:KeyRing, PasswordCredential and ApiKeyCredential were
// <module>:Credential). Each renamed component carries an alias of its old
// token, so a stack created before the rename keeps every resource: the
// state of an up made with the code before the rename
// (test/fixtures/state-before-type-tokens.json, the dev stack, secrets
// encrypted with its passphrase) previews with no change through the engine.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2EProject, engineMissing } from "../../harness/engine";
import { REPO, stackConfig } from "../../harness/stackFiles";

const FIXTURE = join(REPO, "test", "fixtures", "state-before-type-tokens.json");

/** The dev stack's config as it was when the fixture was made: titan-redis and titan-nats were Deployments then. */
function fixtureConfig(): Record<string, unknown> {
    const all = structuredClone(stackConfig("dev").all);
    const services = all["titan-secrets:services"] as Record<string, Record<string, unknown>>;
    for (const s of ["titan-redis", "titan-nats"]) delete services[s].workload;
    return all;
}

describe("a stack from before the type-token rename", { timeout: 300_000 }, () => {
    let project: E2EProject;

    beforeAll(async () => {
        const missing = engineMissing();
        if (missing) throw new Error(missing);
        project = await E2EProject.create("dev", fixtureConfig());
        const r = project.cli(["stack", "import", "--stack", "dev", "--file", FIXTURE]);
        expect(r.status, r.stderr).toBe(0);
    }, 120_000);
    afterAll(() => project?.destroy());

    it("holds the old tokens (the fixture is what it says)", () => {
        const types = (
            JSON.parse(readFileSync(FIXTURE, "utf8")) as { deployment: { resources: { type: string }[] } }
        ).deployment.resources.map((r) => r.type);
        expect(types).toEqual(
            expect.arrayContaining(["titan-secrets:hmac:KeyRing", "titan-secrets:password:Credential", "titan-secrets:apikey:Credential"]),
        );
    });

    it("previews with no change, and an up moves the resources to the new tokens without replacing any", async () => {
        const preview = await project.preview();
        expect(preview.error, preview.output).toBeUndefined();
        expect(Object.keys(preview.changes).filter((op) => op !== "same" && op !== "read")).toEqual([]);
        const keysBefore = await project.keyValues();
        const up = await project.up();
        expect(up.error, up.output).toBeUndefined();
        const state = JSON.parse(await project.exportState(false)) as { deployment: { resources: { type: string }[] } };
        const types = state.deployment.resources.map((r) => r.type);
        expect(types).toEqual(
            expect.arrayContaining([
                "titan-secrets:hmac:HmacKeyRing",
                "titan-secrets:password:PasswordCredential",
                "titan-secrets:apikey:ApiKeyCredential",
            ]),
        );
        expect(types).not.toContain("titan-secrets:hmac:KeyRing");
        // Not one key regenerated.
        expect([...(await project.keyValues()).values()].sort()).toEqual([...keysBefore.values()].sort());
    });
});
