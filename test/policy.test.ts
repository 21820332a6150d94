// The policy pack (policy/) without an engine: each policy called on fake
// stack resources built from the program's own plans (planRotation), with a
// reportViolation spy. The engine run is test/policy.e2e.test.ts.

import { describe, expect, it } from "vitest";
import { Ledger, Plan, parseConfig, planRotation } from "../model";
import { titanPolicies } from "../policy/policies";
import {
    CONFIG_MAP_TYPE,
    DEPLOYMENT_TYPE,
    SECRET_TYPE,
    STACK_REFERENCE_TYPE,
    STACK_TYPE,
    StackResource,
    dependsOn,
    keyMaterialPaths,
} from "../policy/rules";
import { Secret, runResourcePolicies, runStackPolicy } from "../policy/testing";
import { SecretConfig, hmac, titanConfig } from "./support/fleet";

const T0 = new Date("2026-11-01T00:00:00Z");
const days = (d: number) => new Date(T0.getTime() + d * 86_400_000);
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const urn = (type: string, name: string) => `urn:pulumi:dev::titan-secrets::${type}::${name}`;
const policies = titanPolicies({ now: () => T0 });
const policy = (name: string) => {
    const p = policies.find((x) => x.name === name);
    if (!p) throw new Error(`no policy ${name}`);
    return p;
};

function plan(secrets: Record<string, SecretConfig>, previous: Ledger, now: Date): Plan {
    return planRotation(parseConfig(titanConfig(secrets)), previous, now);
}

/**
 * The resources a stack validation sees for a plan: the Stack (ledger
 * output), the StackReference to itself (the previous ledger), one
 * Deployment per workload with the program's annotations and edges, and the
 * Secret objects the presenters read (which wait for the verifiers).
 */
function stackOf(
    p: Plan,
    previous: Ledger,
    tweak: { dropDependencies?: string[]; outputs?: Record<string, unknown> } = {},
): StackResource[] {
    const out: StackResource[] = [
        {
            type: STACK_TYPE,
            urn: urn(STACK_TYPE, "titan-secrets-dev"),
            name: "titan-secrets-dev",
            props: { ledger: p.ledger, ...tweak.outputs },
            dependencies: [],
        },
        {
            type: STACK_REFERENCE_TYPE,
            urn: urn(STACK_REFERENCE_TYPE, "ledger-of-last-up"),
            name: "ledger-of-last-up",
            props: { name: "organization/titan-secrets/dev", outputs: { ledger: previous } },
            dependencies: [],
        },
    ];
    for (const w of p.workloads) {
        const drop = tweak.dropDependencies?.includes(w.service.name);
        out.push({
            type: DEPLOYMENT_TYPE,
            urn: urn(DEPLOYMENT_TYPE, w.service.name),
            name: w.service.name,
            props: {
                metadata: { name: w.service.name, annotations: { "titan-secrets.io/stages": w.stagesAnnotation } },
                spec: { template: { metadata: { annotations: { "titan-secrets.io/consumes": w.consumesAnnotation } } } },
            },
            dependencies: drop ? [] : w.dependsOn.map((d) => ({ urn: urn(DEPLOYMENT_TYPE, d) })),
        });
    }
    return out;
}

describe("overlap-roll-out-order", () => {
    const g1 = plan({ "titan-hmac": hmac(1, "stable") }, {}, days(-30));
    const overlap = plan({ "titan-hmac": hmac(2, "overlap") }, g1.ledger, T0);

    it("passes the program's own plan: titan-brain waits for both verifiers", async () => {
        expect(overlap.waves).toEqual([["titan-execution-rs", "titan-sentinel"], ["titan-brain"]]);
        expect(await runStackPolicy(policy("overlap-roll-out-order"), stackOf(overlap, g1.ledger))).toEqual([]);
    });

    it("fails a presenter that changes in an overlap without depending on every changing verifier", async () => {
        const v = await runStackPolicy(
            policy("overlap-roll-out-order"),
            stackOf(overlap, g1.ledger, { dropDependencies: ["titan-brain"] }),
        );
        expect(v.map((x) => x.urn)).toEqual([urn(DEPLOYMENT_TYPE, "titan-brain"), urn(DEPLOYMENT_TYPE, "titan-brain")]);
        expect(v[0].message).toBe(
            "titan-brain (presenter of titan-hmac, overlap at generation 2) rolls to g2 without depending on titan-execution-rs (verifier, rolling to g2,g1 in the same up): " +
                "a presenter could use the new key before every verifier accepts it. Its Deployment needs dependsOn the titan-execution-rs Deployment (TitanSecrets adds it from planRotation's edges).",
        );
        expect(v[1].message).toContain("without depending on titan-sentinel");
    });

    it("accepts an order carried through another resource (the presenters' Secret object waits for the verifiers)", async () => {
        const resources = stackOf(overlap, g1.ledger, { dropDependencies: ["titan-brain"] });
        const object = urn(SECRET_TYPE, "titan-hmac-presenters");
        resources.push({
            type: SECRET_TYPE,
            urn: object,
            name: "titan-hmac-presenters",
            props: {},
            dependencies: [{ urn: urn(DEPLOYMENT_TYPE, "titan-execution-rs") }, { urn: urn(DEPLOYMENT_TYPE, "titan-sentinel") }],
        });
        resources.find((r) => r.name === "titan-brain")!.dependencies.push({ urn: object });
        expect(dependsOn(resources, urn(DEPLOYMENT_TYPE, "titan-brain"), urn(DEPLOYMENT_TYPE, "titan-sentinel"))).toBe(true);
        expect(await runStackPolicy(policy("overlap-roll-out-order"), resources)).toEqual([]);
    });

    it("asks for no edge while a rotation sits in overlap (nothing changes on either side)", async () => {
        const again = plan({ "titan-hmac": hmac(2, "overlap") }, overlap.ledger, hours(2));
        expect(again.edges).toEqual([]);
        expect(await runStackPolicy(policy("overlap-roll-out-order"), stackOf(again, overlap.ledger))).toEqual([]);
    });

    it("asks for no edge in a revert, where the verifiers do not change", async () => {
        const revert = plan({ "titan-hmac": hmac(2, "revert") }, overlap.ledger, hours(3));
        expect(
            await runStackPolicy(
                policy("overlap-roll-out-order"),
                stackOf(revert, overlap.ledger, { dropDependencies: ["titan-execution-rs", "titan-sentinel", "titan-brain"] }),
            ),
        ).toEqual([]);
    });

    it("requires the edges on a stack's first up, where every workload is new", async () => {
        const first = plan({ "titan-hmac": hmac(2, "overlap") }, {}, T0);
        expect(await runStackPolicy(policy("overlap-roll-out-order"), stackOf(first, {}))).toEqual([]);
        expect(
            await runStackPolicy(policy("overlap-roll-out-order"), stackOf(first, {}, { dropDependencies: ["titan-brain"] })),
        ).toHaveLength(2);
    });

    it("refuses to pass a Deployment whose annotation is not the program's (a hand edit)", async () => {
        const g1 = plan({ "titan-hmac": hmac(1, "stable") }, {}, days(-10));
        const overlap = plan({ "titan-hmac": hmac(2, "overlap") }, g1.ledger, T0);
        const resources = stackOf(overlap, g1.ledger);
        const brain = resources.find((r) => r.type === DEPLOYMENT_TYPE && r.name === "titan-brain")!;
        (brain.props.spec as any).template.metadata.annotations["titan-secrets.io/consumes"] = "titan-hmac=presenter:2";
        const v = await runStackPolicy(policy("overlap-roll-out-order"), resources);
        expect(v.map((x) => x.message)).toEqual([
            expect.stringMatching(/^titan-brain: its titan-secrets.io\/consumes annotation is not in the form titan-secrets writes/),
        ]);
    });
});

describe("secret-max-age and secret-due-soon", () => {
    const aged = (age: number, secret: SecretConfig = hmac(1, "stable")) => {
        const first = plan({ "titan-hmac": secret }, {}, days(-age));
        return { previous: first.ledger, next: plan({ "titan-hmac": secret }, first.ledger, T0) };
    };

    it("fails a stable secret past maxAgeDays, naming the key, its age and the command", async () => {
        const { previous, next } = aged(100);
        const v = await runStackPolicy(policy("secret-max-age"), stackOf(next, previous));
        expect(v).toEqual([
            {
                message:
                    "titan-hmac is overdue for rotation: its key titan-hmac-g1 (generation 1) was created 2026-07-24T00:00:00.000Z, 100 days ago, and was due 2026-10-22T00:00:00.000Z " +
                    "(maxAgeDays in the stack config). Rotate it in this change (npm run rotate -- advance titan-hmac --stack dev) or in one merged before it.",
                urn: undefined,
            },
        ]);
    });

    it("passes the same secret when this change rotates it (overlap: the presenters' key is new)", async () => {
        const { next: stable } = aged(100);
        const rotating = plan({ "titan-hmac": hmac(2, "overlap") }, stable.ledger, T0);
        expect(await runStackPolicy(policy("secret-max-age"), stackOf(rotating, stable.ledger))).toEqual([]);
    });

    it("never blocks a revert or an emergency by age", async () => {
        const old = plan({ "titan-hmac": hmac(2, "overlap") }, {}, days(-200));
        const revert = plan({ "titan-hmac": hmac(2, "revert") }, old.ledger, T0);
        expect(await runStackPolicy(policy("secret-max-age"), stackOf(revert, old.ledger))).toEqual([]);
    });

    it("caps the stack's maxAgeDays with the policy's ceiling per kind", async () => {
        const { previous, next } = aged(100, hmac(1, "stable", { maxAgeDays: 365 }));
        const v = await runStackPolicy(policy("secret-max-age"), stackOf(next, previous));
        expect(v[0].message).toContain("(the policy's maxAgeDays for hmac (90))");
        expect(await runStackPolicy(policy("secret-max-age"), stackOf(next, previous), { maxAgeDays: { hmac: 120 } })).toEqual([]);
    });

    it("warns (advisory) within 14 days of the due date, not before", async () => {
        const soon = aged(80);
        expect((await runStackPolicy(policy("secret-due-soon"), stackOf(soon.next, soon.previous))).map((v) => v.message)).toEqual([
            "titan-hmac is due for rotation on 2026-11-11T00:00:00.000Z (in 10 days, maxAgeDays in the stack config); plan its rotation (npm run rotate -- status).",
        ]);
        const later = aged(60);
        expect(await runStackPolicy(policy("secret-due-soon"), stackOf(later.next, later.previous))).toEqual([]);
        expect(await runStackPolicy(policy("secret-due-soon"), stackOf(later.next, later.previous), { dueSoonDays: 40 })).toHaveLength(1);
        const overdue = aged(100);
        expect(await runStackPolicy(policy("secret-due-soon"), stackOf(overdue.next, overdue.previous))).toEqual([]);
    });

    it("fails, never passes, a row of the exported ledger it cannot read or whose presenters' key it cannot find", async () => {
        const { next, previous } = aged(10);
        const row = next.ledger["titan-hmac"];
        const unknownField = { ...next, ledger: { "titan-hmac": { ...row, writtenBy: "a newer version" } } as unknown as Ledger };
        const v = await runStackPolicy(policy("secret-max-age"), stackOf(unknownField, previous));
        expect(v.map((x) => x.message)).toEqual([
            expect.stringMatching(
                /^cannot read the ledger row of titan-hmac that this up exports \(.*writtenBy.*\), so its age cannot be checked\./,
            ),
        ]);
        const noKey = { ...next, ledger: { "titan-hmac": { ...row, presenterKeyId: "titan-hmac-g9" } } };
        // readLedger refuses such a row (its keys are what its fields name): the same finding, never a pass.
        expect((await runStackPolicy(policy("secret-max-age"), stackOf(noKey, previous))).map((x) => x.message)).toEqual([
            "cannot read the ledger row of titan-hmac that this up exports (presenterKeyId: the presenters' key titan-hmac-g9 is not among the row's keys (titan-hmac-g1), so the secret's age and due date cannot be read), so its age cannot be checked. Run the policy pack of the same version as the program (policy/ in the same commit).",
        ]);
    });

    it("gives service passwords 180 days by default", async () => {
        const { next, previous } = aged(100);
        const ledger = Object.fromEntries(
            Object.entries(next.ledger).map(([k, e]) => [k, { ...e, kind: "password" as const, dueAt: days(80).toISOString() }]),
        );
        expect(await runStackPolicy(policy("secret-max-age"), stackOf({ ...next, ledger }, previous))).toEqual([]);
    });
});

describe("compromised-needs-incident", () => {
    it("fails a compromised ledger row with no incident", async () => {
        const p = plan({ "titan-hmac": hmac(2, "compromised", { incident: "INC-7" }) }, {}, T0);
        expect(await runStackPolicy(policy("compromised-needs-incident"), stackOf(p, {}))).toEqual([]);
        const row = { ...p.ledger["titan-hmac"] };
        delete row.incident;
        const v = await runStackPolicy(policy("compromised-needs-incident"), stackOf({ ...p, ledger: { "titan-hmac": row } }, {}));
        expect(v[0].message).toMatch(/^titan-hmac is compromised at generation 2 with no incident/);
    });
});

describe("stack-outputs-carry-no-key-material", () => {
    const p = plan({ "titan-hmac": hmac(1, "stable") }, {}, T0);
    it("passes the ledger (key IDs, generations, stages, times)", async () => {
        expect(await runStackPolicy(policy("stack-outputs-carry-no-key-material"), stackOf(p, {}))).toEqual([]);
    });
    it("fails an output holding a key by its shape or its name", async () => {
        const v = await runStackPolicy(
            policy("stack-outputs-carry-no-key-material"),
            stackOf(p, {}, { outputs: { debug: { hmac: "ab".repeat(32) }, dbPassword: "hunter2hunter2" } }),
        );
        expect(v.map((x) => x.message)).toEqual([
            "the stack output debug.hmac looks like key material: stack outputs carry key IDs, generations, stages and times only, never a value (not even as a Pulumi secret)",
            "the stack output dbPassword looks like key material: stack outputs carry key IDs, generations, stages and times only, never a value (not even as a Pulumi secret)",
        ]);
        expect(keyMaterialPaths({ presenterKeyId: "titan-hmac-g1", TITAN_HMAC_KEY_ID: "x", passwordFile: "/run/secrets/db" })).toEqual([]);
    });
    it("passes a key stack's keyMaterial (its clusters' channel, a secret output) and nothing else of the kind", async () => {
        const key = "cd".repeat(32);
        const keyRing = { clusters: ["eu", "us"], secrets: { "titan-hmac": { kind: "hmac", generation: 1, stage: "stable" } } };
        const check = (outputs: Record<string, unknown>) =>
            runStackPolicy(policy("stack-outputs-carry-no-key-material"), stackOf(p, {}, { outputs }));
        expect(await check({ keyRing, keyMaterial: { "titan-hmac": { g1: key } } })).toEqual([]);
        // The same key in any other output of a key stack, or keyMaterial in a stack that is no key stack: refused.
        expect((await check({ keyRing, keyMaterial: { "titan-hmac": { g1: key } }, debug: key })).map((v) => v.message)).toEqual([
            "the stack output debug looks like key material: stack outputs carry key IDs, generations, stages and times only, never a value (not even as a Pulumi secret)",
        ]);
        expect((await check({ keyMaterial: { "titan-hmac": { g1: key } } })).map((v) => v.message)).toEqual([
            "the stack output keyMaterial.titan-hmac.g1 looks like key material: stack outputs carry key IDs, generations, stages and times only, never a value (not even as a Pulumi secret)",
        ]);
        expect(await check({ keyRing: { ...keyRing, clusters: [] }, keyMaterial: { "titan-hmac": { g1: key } } })).toHaveLength(1);
    });
});

describe("key-material-is-secret (with the secretness-probe remediation)", () => {
    const secretObject = (stringData: unknown) => ({
        type: SECRET_TYPE,
        urn: urn(SECRET_TYPE, "titan-hmac-verifiers"),
        name: "titan-hmac-verifiers",
        props: { type: "Opaque", stringData },
    });

    it("passes a Secret whose key material is a Pulumi secret (key IDs may be plain)", async () => {
        expect(
            await runResourcePolicies(
                policies,
                secretObject({
                    TITAN_HMAC_SECRET_PRIMARY: new Secret("ab".repeat(32)),
                    TITAN_HMAC_KEY_ID: "titan-hmac-g1",
                    TITAN_HMAC_KEY_ID_SECONDARY: "titan-hmac-g0",
                }),
            ),
        ).toEqual([]);
        expect(await runResourcePolicies(policies, secretObject(new Secret({ TITAN_HMAC_SECRET_PRIMARY: "x" })))).toEqual([]);
    });

    it("fails a Secret entry that is not a Pulumi secret, without printing its value", async () => {
        const v = await runResourcePolicies(
            policies,
            secretObject({ TITAN_HMAC_SECRET_PRIMARY: "cd".repeat(32), TITAN_HMAC_KEY_ID: "titan-hmac-g1" }),
        );
        expect(v.map((x) => x.message)).toEqual([
            "Kubernetes Secret titan-hmac-verifiers: stringData.TITAN_HMAC_SECRET_PRIMARY is not a Pulumi secret, so its value would be stored in plain text in the state and shown in diffs; pass it as a pulumi.secret Output",
        ]);
        expect(JSON.stringify(v)).not.toContain("cd".repeat(32));
    });

    it("fails closed when the probe never ran for a Secret (validation without its remediation)", async () => {
        const validationOnly = policies.filter((p) => p.name !== "secretness-probe");
        const unseen = {
            ...secretObject({ TITAN_HMAC_SECRET_PRIMARY: new Secret("ab".repeat(32)) }),
            urn: urn(SECRET_TYPE, "never-probed"),
        };
        const v = await runResourcePolicies(validationOnly, unseen);
        expect(v.map((x) => x.message)).toEqual([
            "Kubernetes Secret titan-hmac-verifiers: secretness-probe did not run before this validation, so whether its data is a Pulumi secret cannot be checked; run the whole pack (its remediations first)",
        ]);
    });

    it("fails key material in a ConfigMap or in a plain container env value", async () => {
        const cm = await runResourcePolicies(policies, {
            type: CONFIG_MAP_TYPE,
            urn: urn(CONFIG_MAP_TYPE, "c"),
            name: "c",
            props: { data: { REDIS_PASSWORD: "p", LOG_LEVEL: "info" } },
        });
        expect(cm.map((x) => x.message)).toEqual([
            "ConfigMap c: data.REDIS_PASSWORD looks like key material; key material goes in a Secret object as a Pulumi secret",
        ]);
        const env = [
            { name: "LOG_LEVEL", value: "debug" },
            { name: "TITAN_HMAC_SECRET_PRIMARY", value: "oops" },
            { name: "TITAN_HMAC_KEY_ID", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
        ];
        const d = await runResourcePolicies(policies, {
            type: DEPLOYMENT_TYPE,
            urn: urn(DEPLOYMENT_TYPE, "b"),
            name: "b",
            props: { spec: { template: { spec: { containers: [{ name: "b", env }] } } } },
        });
        expect(d.map((x) => x.message)).toEqual([
            "Deployment b: container env TITAN_HMAC_SECRET_PRIMARY has a plain value that looks like a credential; deliver it from a Secret object (valueFrom.secretKeyRef)",
        ]);
    });
});

describe("single-slot-failed-logins", () => {
    it("warns when a secret moves stable N -> stable N+1 (legal only on a single-slot backend)", async () => {
        const g1 = plan({ "titan-hmac": hmac(1, "stable") }, {}, days(-10));
        const next = {
            ...g1,
            ledger: {
                "titan-hmac": {
                    ...g1.ledger["titan-hmac"],
                    generation: 2,
                    presenterKeyId: "titan-hmac-g2",
                    verifierKeyIds: ["titan-hmac-g2"],
                    keys: [{ generation: 2, keyId: "titan-hmac-g2", createdAt: g1.ledger["titan-hmac"].stageAppliedAt }],
                },
            },
        };
        const v = await runStackPolicy(policy("single-slot-failed-logins"), stackOf(next, g1.ledger));
        expect(v[0].message).toMatch(
            /^titan-hmac moves from stable at generation 1 to stable at generation 2 on a verifier that holds one credential at a time: logins with titan-hmac-g1 fail/,
        );
    });
});

describe("the pack", () => {
    it("has these policies at these levels", () => {
        expect(policies.map((p) => [p.name, p.enforcementLevel])).toEqual([
            ["secret-max-age", "mandatory"],
            ["secret-due-soon", "advisory"],
            ["compromised-needs-incident", "mandatory"],
            ["overlap-roll-out-order", "mandatory"],
            ["stack-outputs-carry-no-key-material", "mandatory"],
            ["single-slot-failed-logins", "advisory"],
            ["secretness-probe", "remediate"],
            ["key-material-is-secret", "mandatory"],
        ]);
    });
});
