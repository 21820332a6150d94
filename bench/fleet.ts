// Generated fleets for the benchmarks: services, hmac secrets with random
// (but seeded, so reproducible) verifier and presenter sets, and the raw
// stack config that puts each secret at a chosen (generation, stage) point.

import { RawConfig, Stage } from "../model";

/** mulberry32: a small seeded PRNG, uniform in [0, 1). Same seed, same fleet. */
export function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** An integer in [min, max], both included. */
export function randomInt(rand: () => number, min: number, max: number): number {
    return min + Math.floor(rand() * (max - min + 1));
}

export interface FleetOptions {
    services: number;
    secrets: number;
    seed: number;
    /** Verifiers per secret, [min, max] (min >= 1: an hmac secret needs one). */
    verifiers: [number, number];
    /** Presenters per secret, [min, max]. */
    presenters: [number, number];
}

export interface FleetSecret {
    name: string;
    verifiers: string[];
    presenters: string[];
    /** Distinct per secret, so two secrets delivered to one service never collide. */
    envPrefix: string;
}

export interface Fleet {
    services: string[];
    secrets: FleetSecret[];
}

/** A (generation, stage) point of one secret. */
export interface Point {
    stage: Stage;
    generation: number;
}

export const serviceName = (i: number) => `svc-${String(i).padStart(4, "0")}`;
export const secretName = (i: number) => `hmac-${String(i).padStart(4, "0")}`;

/**
 * `services` services and `secrets` hmac secrets; each secret draws its
 * verifiers and presenters from the services without repetition (a service
 * is never both for one secret).
 */
export function generateFleet(o: FleetOptions): Fleet {
    const rand = prng(o.seed);
    const services = Array.from({ length: o.services }, (_, i) => serviceName(i + 1));
    const secrets: FleetSecret[] = [];
    for (let i = 1; i <= o.secrets; i++) {
        const nv = Math.min(randomInt(rand, o.verifiers[0], o.verifiers[1]), services.length);
        const np = Math.min(randomInt(rand, o.presenters[0], o.presenters[1]), services.length - nv);
        const picked = sample(rand, services, nv + np);
        secrets.push({
            name: secretName(i),
            verifiers: picked.slice(0, nv).sort(),
            presenters: picked.slice(nv).sort(),
            envPrefix: `TITAN_HMAC_${String(i).padStart(4, "0")}`,
        });
    }
    return { services, secrets };
}

/** k distinct items, by a partial Fisher-Yates shuffle of a copy. */
function sample<T>(rand: () => number, items: readonly T[], k: number): T[] {
    const a = items.slice();
    for (let i = 0; i < k; i++) {
        const j = i + Math.floor(rand() * (a.length - i));
        [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, k);
}

/** The stack config of one secret at a point (an incident when compromised). */
export function secretConfig(s: FleetSecret, p: Point): Record<string, unknown> {
    return {
        kind: "hmac",
        generation: p.generation,
        stage: p.stage,
        verifiers: s.verifiers,
        presenters: s.presenters,
        envPrefix: s.envPrefix,
        ...(p.stage === "compromised" ? { incident: "INC-BENCH" } : {}),
    };
}

/** The raw stack config of the fleet, each secret at `pointOf(secret)`. */
export function fleetConfig(fleet: Fleet, pointOf: (secret: string) => Point): RawConfig {
    return {
        kubernetes: { namespace: "titan", renderDir: "rendered" },
        services: Object.fromEntries(fleet.services.map((s) => [s, { image: `registry.example/titan/${s}:1.0.0` }])),
        secrets: Object.fromEntries(fleet.secrets.map((s) => [s.name, secretConfig(s, pointOf(s.name))])),
    };
}

/** Distinct consumers of one secret. */
export function consumersOf(s: FleetSecret): string[] {
    return [...new Set([...s.verifiers, ...s.presenters])].sort();
}
