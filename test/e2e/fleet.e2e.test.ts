// One key ring, two clusters, through the real engine (render mode): a key
// stack and two workload stacks on one file backend, reading each other
// through StackReferences. What a user relies on: both clusters get the
// same key, presenters move only once every cluster's verifiers hold the
// new generation, an early step is refused and changes nothing, the key
// ring lets a generation go only once no cluster's presenters use it, and
// no key appears in plain text anywhere.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2EProject, Step, engineMissing, projectCopy } from "../../harness/engine";
import { FLEET_SECRET, fleetStackConfigs } from "../../harness/fleet";
import { policyMissing, previewWithPolicy, usePolicyPack } from "../../harness/policy";

const missing = engineMissing() ?? policyMissing();

/** The rendered Secret objects of one cluster: role -> data (base64-decoded), annotations. */
function secretObjects(p: E2EProject, cluster: string): Map<string, { data: Record<string, string>; generations: string }> {
    const out = new Map<string, { data: Record<string, string>; generations: string }>();
    for (const obj of p.rendered(`rendered-${cluster}`).values()) {
        if (obj.kind !== "Secret") continue;
        if (obj.metadata.labels?.["titan-secrets.io/secret"] !== FLEET_SECRET) continue;
        const data = Object.fromEntries(
            Object.entries((obj.stringData ?? {}) as Record<string, string>).concat(
                Object.entries((obj.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
            ),
        );
        out.set(obj.metadata.labels["titan-secrets.io/role"], {
            data,
            generations: obj.metadata.annotations["titan-secrets.io/generations"],
        });
    }
    return out;
}

function ok(step: Step): Step {
    expect(step.error, step.output.slice(-3000)).toBeUndefined();
    return step;
}

describe.skipIf(missing !== undefined)("a key ring and two clusters (real engine, render mode)", () => {
    let dir: string;
    let keys: E2EProject;
    let eu: E2EProject;
    let us: E2EProject;
    const configs = fleetStackConfigs({ eu: { renderDir: "rendered-eu" }, us: { renderDir: "rendered-us" } });

    beforeAll(async () => {
        dir = projectCopy();
        usePolicyPack(dir);
        // The clusters' stacks exist before the key ring's first up (it reads them; they hold nothing yet).
        eu = await E2EProject.open(dir, "eu", configs.eu);
        us = await E2EProject.open(dir, "us", configs.us);
        keys = await E2EProject.open(dir, "keys", configs.keys(1, "stable"));
    }, 120_000);
    afterAll(() => keys?.destroy());

    it("runs a rotation across both clusters in order, refusing every early step", async () => {
        ok(await keys.up());
        ok(await eu.up());
        ok(await us.up());
        const g1 = (await keys.keyValues()).get(`${FLEET_SECRET}-g1`)!;
        expect(g1).toMatch(/^[0-9a-f]{64}$/);
        // Both clusters got the key ring's key, not one of their own.
        for (const c of ["eu", "us"]) {
            const objs = secretObjects(eu, c);
            expect(objs.get("verifier")?.data.TITAN_HMAC_SECRET_PRIMARY, c).toBe(g1);
            expect(objs.get("presenter")?.data.TITAN_HMAC_SECRET_PRIMARY, c).toBe(g1);
        }
        expect([...(await eu.keyValues()).keys()], "a workload stack makes no key").toEqual([]);

        // Overlap: the key ring makes g2.
        keys.setConfig("secrets", configs.keys(2, "overlap")["titan-secrets:secrets"]);
        ok(await keys.up());
        const g2 = (await keys.keyValues()).get(`${FLEET_SECRET}-g2`)!;

        // eu's verifiers take g2+g1; its presenters stay on g1 (us's verifiers hold g1 only).
        const euVerifiers = ok(await eu.up());
        expect(euVerifiers.output).toMatch(/presenters in eu stay on g1 until every cluster's verifiers hold g2; behind: us/);
        let objs = secretObjects(eu, "eu");
        expect(objs.get("verifier")?.generations).toBe("2,1");
        expect(objs.get("verifier")?.data.TITAN_HMAC_SECRET_PRIMARY).toBe(g2);
        expect(objs.get("verifier")?.data.TITAN_HMAC_SECRET_SECONDARY).toBe(g1);
        expect(objs.get("presenter")?.generations).toBe("1");
        expect((await eu.outputs()).ledger).toMatchObject({ [FLEET_SECRET]: { stage: "overlap", generation: 2, presentersHeldAt: 1 } });

        // eu again, before us: its presenters' step is refused and nothing changes.
        const early = await eu.preview();
        expect(early.error).toBeDefined();
        expect(early.output).toContain(
            `titan-secrets:consumers.${FLEET_SECRET}.presenters: found the presenters' step of ${FLEET_SECRET} in eu`,
        );
        expect(early.output).toMatch(/while verifiers in us \(verifiers g1, presenters g1; its last up followed stable at generation 1\)/);
        const earlyUp = await eu.up();
        expect(earlyUp.error).toBeDefined();
        expect(secretObjects(eu, "eu").get("presenter")?.generations).toBe("1");

        // The key ring refuses to retire g1 while presenters use it.
        keys.setConfig("secrets", configs.keys(2, "stable")["titan-secrets:secrets"]);
        const retireEarly = await keys.up();
        expect(retireEarly.error).toBeDefined();
        expect(retireEarly.output).toMatch(
            /takes g1 out of the key ring while presenters in eu \(verifiers g2\+g1, presenters g1;.*us \(verifiers g1, presenters g1/s,
        );
        keys.setConfig("secrets", configs.keys(2, "overlap")["titan-secrets:secrets"]);

        // us: both sides in one up (eu's verifiers hold g2); then eu's presenters.
        ok(await us.up());
        objs = secretObjects(eu, "us");
        expect(objs.get("verifier")?.generations).toBe("2,1");
        expect(objs.get("presenter")?.generations).toBe("2");
        expect(objs.get("presenter")?.data.TITAN_HMAC_SECRET_PRIMARY).toBe(g2);
        // The policy pack passes eu's presenters' step (its last ledger row is the held one) and the key ring in overlap.
        for (const p of [eu, keys]) {
            const checked = await previewWithPolicy(p);
            expect(checked.error, checked.output.slice(-2000)).toBeUndefined();
            expect(checked.violations, p.stack.name).toEqual([]);
        }
        ok(await eu.up());
        expect(secretObjects(eu, "eu").get("presenter")?.generations).toBe("2");

        // Retire: the key ring lets g1 go, each cluster's verifiers drop it.
        keys.setConfig("secrets", configs.keys(2, "stable")["titan-secrets:secrets"]);
        ok(await keys.up());
        expect([...(await keys.keyValues()).keys()]).toEqual([`${FLEET_SECRET}-g2`]);
        const ledger = (await keys.outputs()).ledger as Record<string, { clusters: Record<string, unknown> }>;
        expect(ledger[FLEET_SECRET].clusters).toEqual({
            eu: { verifiers: [2, 1], presenters: [2], stage: "overlap", generation: 2 },
            us: { verifiers: [2, 1], presenters: [2], stage: "overlap", generation: 2 },
        });
        ok(await eu.up());
        ok(await us.up());
        for (const c of ["eu", "us"]) expect(secretObjects(eu, c).get("verifier")?.generations, c).toBe("2");

        // The keys travel as the key ring's secret output.
        const exported = await keys.stack.outputs();
        expect(exported.keyMaterial.secret).toBe(true);
        expect(exported.keyRing.secret).toBe(false);
        expect(JSON.stringify(exported.keyRing.value)).not.toContain(g2);

        // No key in plain text: outputs, every line the CLI printed, the plain state of each stack.
        for (const p of [keys, eu, us]) {
            const plain = await p.exportState(false);
            for (const v of [g1, g2]) expect(plain.includes(v)).toBe(false);
            for (const line of p.transcript) for (const v of [g1, g2]) expect(line.includes(v)).toBe(false);
        }
    }, 600_000);
});
