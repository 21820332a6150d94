// The plan's restart list is what the program does. Property, under mocks:
// over random sequences of ups (legal stage steps, consumers added or taken
// off, secrets that stay), the Deployments the plan says restart are exactly
// the Deployments whose pod template changes from one up to the next, and the
// plan's waves hold each of them once. A pod template that changes without
// the plan saying so is a restart nobody reviewed; the reverse is a promised
// roll that never happens.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ledger, StagePoint, keyIdsFor, nextSteps } from "../model";
import { TITAN_SERVICES, titanConfig } from "./support/fleet";
import { ProgramRun, T, byType, runProgram } from "./support/mocks";

const SERVICES = Object.keys(TITAN_SERVICES).sort();
const SECRETS = ["s0", "s1"];
const DAY = 86_400_000;

/** Per service: 0 = not a consumer, 1 = verifier, 2 = presenter. */
type Roles = number[];

interface Step {
    /** Per secret: index into "stay" + its legal next steps. */
    stage: number[];
    /** Per secret: a new role for one service, or none. */
    consumer: ({ service: number; role: number } | null)[];
}

const rolesArb = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: SERVICES.length, maxLength: SERVICES.length });
const stepArb: fc.Arbitrary<Step> = fc.record({
    stage: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
    consumer: fc.array(
        fc.option(fc.record({ service: fc.nat({ max: SERVICES.length - 1 }), role: fc.integer({ min: 0, max: 2 }) }), { freq: 2 }),
        { minLength: 2, maxLength: 2 },
    ),
});

function secretConfig(i: number, roles: Roles, point: StagePoint, prev: Ledger[string] | undefined) {
    return {
        kind: "hmac",
        envPrefix: `TITAN_S${i}`,
        generation: point.generation,
        stage: point.stage,
        ...keyIdsFor(SECRETS[i], point, prev),
        ...(point.stage === "compromised" ? { incident: "INC-1" } : {}),
        verifiers: SERVICES.filter((_, j) => roles[j] === 1),
        presenters: SERVICES.filter((_, j) => roles[j] === 2),
    };
}

const templates = (run: ProgramRun) =>
    new Map(byType(run, T.deployment).map((d) => [d.name, JSON.stringify(d.inputs.spec.template)] as [string, string]));

describe("the plan's restarts are the program's pod-template changes", () => {
    it("over random stage steps and consumer changes", { timeout: 600_000 }, async () => {
        let compared = 0;
        let restarts = 0;
        let quiet = 0;
        await fc.assert(
            fc.asyncProperty(
                fc.array(rolesArb, { minLength: 2, maxLength: 2 }),
                fc.array(stepArb, { minLength: 1, maxLength: 4 }),
                async (initial, steps) => {
                    let roles = initial.map((r) => (r.includes(1) ? r : [1, ...r.slice(1)]));
                    let points: StagePoint[] = SECRETS.map(() => ({ generation: 1, stage: "stable" }));
                    let now = new Date("2026-01-01T00:00:00Z");
                    let ledger: Ledger = {};
                    const config = () =>
                        titanConfig(Object.fromEntries(SECRETS.map((s, i) => [s, secretConfig(i, roles[i], points[i], ledger[s])])));
                    let last = await runProgram(config(), ledger, now);
                    if (last.error) return; // this fleet is refused as a whole (e.g. a service both verifier and presenter)
                    ledger = last.outputs!.ledger;

                    for (const step of steps) {
                        now = new Date(now.getTime() + 2 * DAY); // past every minimum overlap
                        const before = { roles, points };
                        points = points.map((p, i) => {
                            const options = nextSteps(p, 2);
                            const c = step.stage[i] % (options.length + 1);
                            return c < options.length ? options[c] : p;
                        });
                        roles = roles.map((r, i) => {
                            const change = step.consumer[i];
                            if (!change) return r;
                            const next = [...r];
                            next[change.service] = change.role;
                            return next.includes(1) ? next : r;
                        });
                        const run = await runProgram(config(), ledger, now);
                        if (run.error) {
                            // Refused steps change nothing; they must be config errors (a RunError with the message), not crashes.
                            expect(run.error.message, run.error.stack).toMatch(/^Invalid stack config/);
                            ({ roles, points } = before);
                            continue;
                        }
                        const a = templates(last);
                        const b = templates(run);
                        const changed = SERVICES.filter((s) => a.get(s) !== b.get(s));
                        const planned = run.plan!.workloads.filter((w) => w.changed).map((w) => w.service.name);
                        expect(planned.sort(), "plan's restarts vs pod templates that changed").toEqual(changed);
                        const inWaves = run.plan!.waves.flat().filter((w) => SERVICES.includes(w));
                        expect(inWaves.sort(), "each restarting workload in exactly one wave").toEqual(changed);
                        compared++;
                        if (changed.length > 0) restarts++;
                        else quiet++;
                        last = run;
                        ledger = run.outputs!.ledger;
                    }
                },
            ),
            { numRuns: 40, seed: 4242 },
        );
        // Both kinds of up were seen.
        expect(compared).toBeGreaterThan(30);
        expect(restarts).toBeGreaterThan(10);
        expect(quiet).toBeGreaterThan(2);
    });
});
