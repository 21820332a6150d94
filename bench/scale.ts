// Figure 3's scenario: a fleet of n services with secrets in proportion, in
// the middle of an ordinary up: every secret was stable at g1 at the last up,
// and about one in five now moves to overlap at g2 (those whose orders can
// be satisfied together; the rest stay), so the run has edges, waves, new
// keys and replaced Secret objects as well as untouched workloads.

import { Ledger, RawConfig, parseConfig, planRotation } from "../model";
import { Fleet, Point, fleetConfig, generateFleet } from "./fleet";
import { T0, settledLedger } from "./figures";

export interface ScaleScenario {
    services: number;
    secrets: number;
    moving: number;
    raw: RawConfig;
    previous: Ledger;
    now: Date;
}

/** Secrets per service (the 50-service, 20-secret fleet of figure 1). */
export const SECRETS_PER_SERVICE = 0.4;

export function scaleFleet(services: number, seed = 3): Fleet {
    return generateFleet({
        services,
        secrets: Math.max(1, Math.round(services * SECRETS_PER_SERVICE)),
        seed,
        verifiers: [1, 3],
        presenters: [1, 4],
    });
}

/**
 * Every fifth secret moves stable g1 -> overlap g2 unless its edges
 * (presenters after verifiers) would close a cycle with those already
 * chosen; the model would refuse such an up.
 */
export function scaleScenario(services: number, seed = 3): ScaleScenario {
    const fleet = scaleFleet(services, seed);
    const after = new Map<string, string[]>(); // presenter -> verifiers it waits for
    const reaches = (from: string, to: string): boolean => {
        const stack = [from];
        const seen = new Set<string>();
        while (stack.length > 0) {
            const n = stack.pop()!;
            if (n === to) return true;
            if (seen.has(n)) continue;
            seen.add(n);
            stack.push(...(after.get(n) ?? []));
        }
        return false;
    };
    const moving = new Set<string>();
    fleet.secrets.forEach((s, i) => {
        if (i % 5 !== 0) return;
        // An edge p -> v closes a cycle iff v already reaches p.
        if (s.presenters.some((p) => s.verifiers.some((v) => reaches(v, p)))) return;
        for (const p of s.presenters) after.set(p, [...(after.get(p) ?? []), ...s.verifiers]);
        moving.add(s.name);
    });
    const stable: Point = { stage: "stable", generation: 1 };
    const overlap: Point = { stage: "overlap", generation: 2 };
    const previous = settledLedger(parseConfig(fleetConfig(fleet, () => stable)), T0);
    const raw = fleetConfig(fleet, (name) => (moving.has(name) ? overlap : stable));
    const now = new Date(T0.getTime() + 3_600_000);
    planRotation(parseConfig(raw), previous, now); // throws if the scenario were refused
    return { services, secrets: fleet.secrets.length, moving: moving.size, raw, previous, now };
}
