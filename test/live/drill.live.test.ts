// The drill (npm run drill): real processes play the pods of a rotation on
// the live API server, signing and verifying with the consumer library. In
// the program's order no request is refused; with the order broken on
// purpose (the presenters applied first) the same drill counts refusals,
// which proves it can see them.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clusterMissing } from "../../harness/cluster";
import { runDrill } from "../../drill/main";

const missing = clusterMissing();
const out = mkdtempSync(join(tmpdir(), "titan-drill-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the rotation drill", { timeout: 900_000 }, () => {
    it("overlap -> stable in the program's order: every request accepted, at every stage, while every pod restarts", async () => {
        if (missing) throw new Error(missing);
        const r = await runDrill({ out: join(out, "ordered"), settleSeconds: 2 });
        expect(r.steps).toEqual(["stable g1", "overlap g2", "stable g2"]);
        for (const stage of r.steps) {
            expect(r.byStage[stage]?.accepted, `requests accepted in ${stage}`).toBeGreaterThan(0);
            expect(r.byStage[stage]?.refused, `refused in ${stage}`).toBe(0);
        }
        const timeline = JSON.parse(readFileSync(r.json, "utf8")).timeline as { kind: string; role?: string; holds?: string }[];
        // The presenters really restarted onto g2 and the verifiers onto g2+g1 while requests flowed.
        expect(timeline.some((e) => e.kind === "pod-start" && e.role === "presenter" && e.holds === "g2")).toBe(true);
        expect(timeline.some((e) => e.kind === "pod-start" && e.role === "verifier" && e.holds === "g2+g1")).toBe(true);
        expect(existsSync(r.svg)).toBe(true);
        expect(readFileSync(r.svg, "utf8")).toMatch(/^<svg [^>]*>[\s\S]*overlap g2[\s\S]*<\/svg>\n$/);
    });

    it("negative control: the presenters rolled first on purpose, and the drill counts the refusals", async () => {
        if (missing) throw new Error(missing);
        const r = await runDrill({ out: join(out, "reversed"), settleSeconds: 2, reverse: true });
        expect(r.byStage["overlap g2"].refused).toBeGreaterThan(0);
        expect(r.byStage["stable g1"].refused).toBe(0);
        expect(readFileSync(r.svg, "utf8")).toContain('fill="#d32f2f"'); // refusals drawn
    });
});
