// Property tests of the safety rule (docs/DESIGN.md) over random fleets and
// random sequences of stage changes: every transition the model allows is
// simulated pod by pod, in random interleavings, and no running presenter
// pod may ever hold a credential a running verifier pod rejects.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyIdsFor, ConfigError, Ledger, Plan, RawConfig, StackSpec, StagePoint, nextSteps, parseConfig, planRotation } from "../model";
import { KeyIncarnations, simulateUp } from "./support/simulate";

/** How a generated secret is verified: HMAC listeners, or a password backend. */
type Flavour = "hmac" | "redis" | "nats" | "rds" | "elasticache";

interface Fleet {
    services: string[];
    secrets: { name: string; flavour: Flavour; verifiers: string[]; presenters: string[] }[];
}

const FLAVOURS: Flavour[] = ["hmac", "redis", "nats", "rds", "elasticache"];

const fleetArb: fc.Arbitrary<Fleet> = fc.integer({ min: 2, max: 7 }).chain((n) => {
    const services = Array.from({ length: n }, (_, i) => `svc-${i}`);
    // Per secret, each service is 0 = not a consumer, 1 = verifier, 2 = presenter.
    const roles = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }).filter((r) => r.includes(1));
    const secret = fc.record({ roles, flavour: fc.constantFrom(...FLAVOURS) });
    return fc.array(secret, { minLength: 1, maxLength: 4 }).map((all) => {
        const serving = new Set<string>(); // a server verifies one password secret
        return {
            services,
            secrets: all.map(({ roles: r, flavour }, i) => {
                let verifiers = services.filter((_, j) => r[j] === 1);
                if (flavour === "rds" || flavour === "elasticache") verifiers = [];
                if (flavour === "redis" || flavour === "nats") {
                    verifiers = verifiers.filter((v) => !serving.has(v));
                    verifiers.forEach((v) => serving.add(v));
                }
                // A password whose servers all serve another secret falls back to HMAC.
                const f: Flavour = (flavour === "redis" || flavour === "nats") && verifiers.length === 0 ? "hmac" : flavour;
                if (f === "hmac" && verifiers.length === 0) verifiers = services.filter((_, j) => r[j] === 1);
                return { name: `s${i}`, flavour: f, verifiers, presenters: services.filter((_, j) => r[j] === 2) };
            }),
        };
    });
});

/** Per step: for each secret, a choice among "stay" and its legal next steps. */
const stepsArb = fc.array(fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 8 });

/** The fleet at these points; key IDs as rotate writes them (a returning generation number gets a fresh key ID). */
function config(fleet: Fleet, points: StagePoint[], ledger: Ledger = {}): RawConfig {
    return {
        kubernetes: { renderDir: "rendered" },
        aws: { region: "eu-west-1" },
        services: Object.fromEntries(fleet.services.map((s) => [s, { image: `example/${s}:1` }])),
        secrets: Object.fromEntries(
            fleet.secrets.map((s, i) => [
                s.name,
                {
                    generation: points[i].generation,
                    stage: points[i].stage,
                    ...keyIdsFor(s.name, points[i], ledger[s.name]),
                    verifiers: s.verifiers,
                    presenters: s.presenters,
                    ...(s.flavour === "hmac"
                        ? { kind: "hmac", envPrefix: `TITAN_HMAC_${i}` }
                        : {
                              kind: "password",
                              backend: {
                                  type: s.flavour,
                                  file: `cred${i}`,
                                  ...(s.flavour === "rds" || s.flavour === "elasticache" ? { identifier: `res-${i}` } : {}),
                                  ...(s.flavour === "rds" ? { instanceClass: "db.t4g.small" } : {}),
                              },
                          }),
                    ...(points[i].stage === "compromised" ? { incident: "INC-1" } : {}),
                },
            ]),
        ),
    };
}

const DAY = 86_400_000;

describe("safety rule over random fleets and stage sequences", () => {
    it("holds at every pod-level step of every allowed transition", () => {
        let simulatedUps = 0;
        let refusedCycles = 0;
        fc.assert(
            fc.property(fleetArb, stepsArb, fc.integer(), (fleet, steps, seed) => {
                let rng = seed >>> 0;
                const pick = (n: number) => {
                    rng = (Math.imul(rng, 1_103_515_245) + 12_345) >>> 0;
                    return (rng >>> 16) % n;
                };
                let points: StagePoint[] = fleet.secrets.map(() => ({ generation: 1, stage: "stable" }));
                let now = new Date("2026-01-01T00:00:00Z");
                let spec: StackSpec = parseConfig(config(fleet, points));
                let plan: Plan = planRotation(spec, {}, now);
                let ledger: Ledger = plan.ledger;
                let keys = new KeyIncarnations();
                keys.advance(plan);

                for (const choices of steps) {
                    now = new Date(now.getTime() + 2 * DAY); // past every minimum overlap
                    const next = points.map((p, i) => {
                        const options = nextSteps(p, fleet.secrets[i].flavour === "rds" ? 1 : 2);
                        const c = choices[i] % (options.length + 2); // "stay" is twice as likely
                        return c < options.length ? options[c] : p;
                    });
                    const nextSpec = parseConfig(config(fleet, next, ledger));
                    let nextPlan: Plan;
                    try {
                        nextPlan = planRotation(nextSpec, ledger, now);
                    } catch (e) {
                        // The only refusal of legal steps: contradictory orders, naming the secrets.
                        expect(e).toBeInstanceOf(ConfigError);
                        expect((e as Error).message).toMatch(/rotations of "s\d" and "s\d"/);
                        refusedCycles++;
                        continue; // nothing changes; the stack stays where it was
                    }
                    const nextKeys = keys.snapshot();
                    nextKeys.advance(nextPlan);
                    // A single-slot backend moving to a new generation fails logins by design; the plan must say so.
                    const singleSlot = new Set(
                        fleet.secrets
                            .filter(
                                (s, i) => s.flavour === "rds" && next[i].generation !== points[i].generation && next[i].stage === "stable",
                            )
                            .map((s) => s.name),
                    );
                    for (const name of singleSlot) expect(nextPlan.warnings.some((w) => w.startsWith(`SINGLE-SLOT ${name}:`))).toBe(true);
                    const result = simulateUp(nextSpec, plan, keys, nextPlan, nextKeys, pick, singleSlot);
                    simulatedUps++;
                    expect(result.editedObjects).toEqual([]);
                    expect(result.violations).toEqual([]);
                    for (const s of nextSpec.secrets.values()) {
                        const moved = ledger[s.name].stage !== s.stage || ledger[s.name].generation !== s.generation;
                        if (s.stage === "compromised" && moved) {
                            expect(nextPlan.warnings.some((w) => w.startsWith(`COMPROMISED ${s.name} `))).toBe(true);
                        }
                    }
                    points = next;
                    spec = nextSpec;
                    plan = nextPlan;
                    ledger = nextPlan.ledger;
                    keys = nextKeys;
                }
            }),
            { numRuns: 300 },
        );
        // The properties exercised real roll-outs, and the cycle refusal too.
        expect(simulatedUps).toBeGreaterThan(300);
        expect(refusedCycles).toBeGreaterThan(0);
    });

    it("the simulator does catch an unsafe order (presenters first in an overlap)", () => {
        const fleet: Fleet = { services: ["v", "p"], secrets: [{ name: "s0", flavour: "hmac", verifiers: ["v"], presenters: ["p"] }] };
        const stable = planRotation(parseConfig(config(fleet, [{ generation: 1, stage: "stable" }])), {}, new Date(0));
        const overlapSpec = parseConfig(config(fleet, [{ generation: 2, stage: "overlap" }]));
        const overlap = planRotation(overlapSpec, stable.ledger, new Date(DAY));
        const keys = new KeyIncarnations();
        keys.advance(stable);
        const nextKeys = keys.snapshot();
        nextKeys.advance(overlap);
        // Drop the order the resources declare: what an up without dependsOn would do.
        const unordered: Plan = {
            ...overlap,
            secrets: overlap.secrets.map((p) => ({ ...p, secretObjectDependsOn: { verifier: [], presenter: [] } })),
        };
        const alwaysPresenterFirst = (n: number) => n - 1; // "p" sorts after "v" in the event list
        const result = simulateUp(overlapSpec, stable, keys, unordered, nextKeys, alwaysPresenterFirst);
        expect(result.violations.length).toBeGreaterThan(0);
        expect(result.violations[0]).toMatchObject({ secret: "s0", presenter: "p", verifier: "v" });
        // With the declared order, the same choices are safe.
        expect(simulateUp(overlapSpec, stable, keys, overlap, nextKeys, alwaysPresenterFirst).violations).toEqual([]);
    });
});
