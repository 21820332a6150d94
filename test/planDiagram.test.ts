// The plan as a picture: `rotate plan --markdown` carries a Mermaid
// flowchart of the waves. Parsed here by Mermaid itself (the package GitHub's
// renderer is built on, in a jsdom window), and its model compared with the
// plan: one box per wave in order, the wave's workloads in it, each with the
// secret, role and key IDs it rolls for, and an arrow from each wave to the
// next.

import { JSDOM } from "jsdom";
import { beforeAll, describe, expect, it } from "vitest";
import { formatPlanMarkdown, planReport } from "../cli/rotate/planReport";
import { NO_EXCHANGE_KEYS, Ledger, parseConfig, planRotation } from "../model";
import { titanConfig } from "./support/fleet";

type Mermaid = typeof import("mermaid").default;
let mermaid: Mermaid;

beforeAll(async () => {
    const dom = new JSDOM("<!doctype html><html><body></body></html>");
    Object.assign(globalThis, { window: dom.window, document: dom.window.document });
    mermaid = (await import("mermaid")).default;
});

const T0 = new Date("2026-11-01T00:00:00Z");
const meta = { stack: "dev", file: "Pulumi.dev.yaml", ledgerSource: "file", ledgerNote: "ledger from test" };

const SERVICES = {
    "titan-brain": { image: "b" },
    "titan-execution-rs": { image: "e" },
    "titan-sentinel": { image: "s" },
    "titan-ai-quant": { image: "q" },
    "titan-redis": { image: "redis:7" },
};
const secrets = (hmacStage: [number, string], redisStage: [number, string]) => ({
    "titan-hmac": {
        kind: "hmac",
        generation: hmacStage[0],
        stage: hmacStage[1],
        verifiers: ["titan-execution-rs", "titan-sentinel"],
        presenters: ["titan-brain"],
    },
    "titan-redis-password": {
        kind: "password",
        generation: redisStage[0],
        stage: redisStage[1],
        backend: { type: "redis", username: "titan" },
        verifiers: ["titan-redis"],
        presenters: ["titan-ai-quant", "titan-brain"],
    },
});

function markdownAt(hmacStage: [number, string], redisStage: [number, string]) {
    const before = parseConfig(titanConfig(secrets([1, "stable"], [1, "stable"]), SERVICES));
    const ledger: Ledger = planRotation(before, {}, T0).ledger;
    const spec = parseConfig(titanConfig(secrets(hmacStage, redisStage), SERVICES));
    const report = planReport(spec, ledger, new Date(T0.getTime() + 3_600_000), meta, NO_EXCHANGE_KEYS);
    return { report, markdown: formatPlanMarkdown(report) };
}

function diagramOf(markdown: string): string {
    const m = /```mermaid\n([\s\S]*?)\n```/.exec(markdown);
    if (!m) throw new Error("no mermaid block in:\n" + markdown);
    return m[1];
}

interface FlowDb {
    getVertices(): Map<string, { id: string; text: string }>;
    getSubGraphs(): { id: string; title: string; nodes: string[] }[];
    getEdges(): { start: string; end: string }[];
}

async function model(text: string): Promise<FlowDb> {
    expect(await mermaid.parse(text)).toMatchObject({ diagramType: "flowchart-v2" });
    return (await mermaid.mermaidAPI.getDiagramFromText(text)).db as unknown as FlowDb;
}

describe("the plan's Mermaid diagram", () => {
    it("parses, and holds the plan's waves in order with what each workload rolls for", async () => {
        const { report, markdown } = markdownAt([2, "overlap"], [2, "overlap"]);
        expect(report.waves.length).toBeGreaterThanOrEqual(2);
        const db = await model(diagramOf(markdown));
        const vertices = db.getVertices();
        const boxes = db.getSubGraphs();
        expect(boxes.map((b) => b.title)).toEqual(report.waves.map((_, i) => `wave ${i + 1}`));
        boxes.forEach((box, i) => {
            const names = box.nodes.map((id) => vertices.get(id)!.text.split("<br>")[0]);
            expect(names.sort()).toEqual([...report.waves[i]].sort());
        });
        expect(db.getEdges().map((e) => [e.start, e.end])).toEqual(boxes.slice(1).map((b, i) => [boxes[i].id, b.id]));
        // titan-brain presents both secrets: both lines, with the key IDs.
        const brain = [...vertices.values()].find((v) => v.text.startsWith("titan-brain"))!;
        expect(brain.text.split("<br>").slice(1).sort()).toEqual([
            "titan-hmac presenter: titan-hmac-g2",
            "titan-redis-password presenter: titan-redis-password-g2",
        ]);
    });

    it("is left out when nothing rolls or the up is refused", () => {
        expect(markdownAt([1, "stable"], [1, "stable"]).markdown).not.toContain("```mermaid");
        const refused = markdownAt([3, "overlap"], [1, "stable"]);
        expect(refused.report.refused).toBe(true);
        expect(refused.markdown).not.toContain("```mermaid");
    });

    it("negative control: the parser refuses a broken diagram (so a pass means something)", async () => {
        const { markdown } = markdownAt([2, "overlap"], [1, "stable"]);
        const broken = diagramOf(markdown).replace('["wave 1"]', '["wave "1"]');
        await expect(mermaid.parse(broken)).rejects.toThrow(/Parse error/);
    });
});
