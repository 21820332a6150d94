// The Deployment annotations: one codec (model/annotations.ts) that the plan
// writes with and the policy pack reads with. Every value written reads back
// as itself; a value the program would not write reads as unreadable.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Held, StageMark, STAGES, formatConsumes, formatStages, parseConsumes, parseStages } from "../model";

const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const held = fc.record({
    secret: name,
    role: fc.constantFrom("verifier" as const, "presenter" as const),
    generations: fc.array(fc.integer({ min: 1, max: 9999 }), { minLength: 1, maxLength: 2 }),
});
const mark = fc.record({ secret: name, stage: fc.constantFrom(...STAGES), generation: fc.integer({ min: 1, max: 9999 }) });

describe("the consumes and stages annotations", () => {
    it("read back exactly what was written", () => {
        fc.assert(
            fc.property(fc.array(held, { maxLength: 5 }), (h: Held[]) => {
                expect(parseConsumes(formatConsumes(h))).toEqual(h);
            }),
        );
        fc.assert(
            fc.property(fc.array(mark, { maxLength: 5 }), (m: StageMark[]) => {
                expect(parseStages(formatStages(m))).toEqual(m);
            }),
        );
    });

    it("read an absent annotation as holding nothing", () => {
        expect(parseConsumes(undefined)).toEqual([]);
        expect(parseConsumes("")).toEqual([]);
        expect(parseStages(undefined)).toEqual([]);
    });

    it("read a value the program never writes as unreadable, not as holding nothing", () => {
        for (const bad of ["titan-hmac=presenter:2", "titan-hmac=signer:g2", "titan-hmac=verifier:g2;", " titan-hmac=verifier:g2", 42])
            expect(parseConsumes(bad)).toBeUndefined();
        for (const bad of ["titan-hmac=overlap@2", "titan-hmac=rotating@g2", "x"]) expect(parseStages(bad)).toBeUndefined();
    });
});
