// `npm run drill`: a whole HMAC rotation on the local control plane while
// real processes play the pods (drill/player.ts): presenters sign requests
// to every verifier continuously, verifiers check them with the consumer
// library. Output: requests sent, accepted and refused per stage, and a
// timeline picture (SVG) of the stages, each pod's life and the refusals
// per second.
//
//   npm run drill                      overlap g2 -> stable g2 (expect 0 refused)
//   npm run drill -- --revert          overlap g2 -> revert g2 -> stable g1
//   npm run drill -- --compromise      compromised at g2: everything at once,
//                                      refusals expected and counted
//   npm run drill -- --reverse         the presenters rolled first on purpose
//                                      (pulumi up --target of the presenter
//                                      side, bypassing the order): refusals
//                                      expected, proving the drill sees them
//   --out DIR                          where drill.json and drill.svg go (default drill-out/)

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { kubeConfig } from "../harness/cluster";
import { LiveProject, hmacAt } from "../harness/live";
import { Counts, PodPlayer } from "./player";
import { timelineSvg } from "./svg";

export interface DrillOptions {
    revert?: boolean;
    reverse?: boolean;
    /** An emergency: compromised at g2, every workload at once (refusals expected until every pod has restarted). */
    compromise?: boolean;
    replicas?: number;
    out?: string;
    /** Seconds of traffic before and after each up. */
    settleSeconds?: number;
}

export interface DrillReport {
    steps: string[];
    byStage: Record<string, Counts>;
    totals: Counts;
    failuresPerSecond: number[];
    svg: string;
    json: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stage's label; the way back to stable g1 is told apart from the start. */
const phaseOf = (stage: string, generation: number) => `${stage} g${generation}${stage === "stable" && generation === 1 ? " (back)" : ""}`;

export async function runDrill(options: DrillOptions = {}): Promise<DrillReport> {
    const out = resolve(options.out ?? "drill-out");
    const settle = (options.settleSeconds ?? 3) * 1000;
    const live = await LiveProject.create("drill", { replicas: options.replicas ?? 2 });
    const player = new PodPlayer(await kubeConfig(live.cluster), live.namespace, "titan-hmac");
    const steps: [number, string][] = options.compromise
        ? [[2, "compromised"]]
        : options.revert
          ? [
                [2, "overlap"],
                [2, "revert"],
                [1, "stable"],
            ]
          : [
                [2, "overlap"],
                [2, "stable"],
            ];
    try {
        live.setHmac(1, "stable");
        const first = await live.project.up();
        if (first.error) throw new Error(`the first up failed:\n${first.output}`);
        await player.start();
        player.setPhase("stable g1");
        await player.waitForTraffic();
        await sleep(settle);
        for (const [generation, stage] of steps) {
            player.setPhase(phaseOf(stage, generation));
            if (stage === "compromised") {
                const secrets = hmacAt(live.config, generation, stage) as Record<string, Record<string, unknown>>;
                live.project.setConfig("secrets", { ...secrets, "titan-hmac": { ...secrets["titan-hmac"], incident: "DRILL-1" } });
            } else live.setHmac(generation, stage);
            if (options.reverse && stage === "overlap") await presentersFirst(live);
            const up = await live.project.up();
            if (up.error) throw new Error(`the up to ${stage} g${generation} failed:\n${up.output}`);
            await sleep(settle);
        }
    } finally {
        player.stop();
        await live.destroy();
    }
    const byStage = Object.fromEntries(player.byPhase);
    const report = {
        steps: ["stable g1", ...steps.map(([g, s]) => phaseOf(s, g))],
        byStage,
        totals: player.totals(),
        failuresPerSecond: player.failuresPerSecond,
    };
    mkdirSync(out, { recursive: true });
    const json = join(out, "drill.json");
    const svg = join(out, "drill.svg");
    writeFileSync(json, JSON.stringify({ ...report, timeline: player.timeline }, null, 2));
    writeFileSync(svg, timelineSvg(player.timeline, player.failuresPerSecond, Date.now() - player.started));
    return { ...report, svg, json };
}

/**
 * The order broken on purpose: the new key, the presenters' Secret object
 * and the presenter Deployment applied alone (`pulumi up --target`), so the
 * presenter signs with g2 while the verifiers still hold g1 only.
 */
async function presentersFirst(live: LiveProject): Promise<void> {
    const state = JSON.parse(await live.project.exportState()) as { deployment: { resources: { urn: string; type: string }[] } };
    const urns = state.deployment.resources.map((r) => r.urn);
    const find = (suffix: string) => {
        const urn = urns.find((u) => u.endsWith(suffix));
        if (!urn) throw new Error(`no resource ending in ${suffix} in the state`);
        return urn;
    };
    const g1Key = find("::titan-hmac-g1");
    const targets = [
        g1Key.replace(/::titan-hmac-g1$/, "::titan-hmac-g2"),
        find("::titan-hmac-presenters"),
        find("apps/v1:Deployment::titan-brain"),
    ];
    await live.project.stack.up({ target: targets, color: "never" });
}

async function main(argv: string[]): Promise<number> {
    const flag = (f: string) => argv.includes(f);
    const outAt = argv.indexOf("--out");
    const report = await runDrill({
        revert: flag("--revert"),
        reverse: flag("--reverse"),
        compromise: flag("--compromise"),
        out: outAt >= 0 ? argv[outAt + 1] : undefined,
    });
    const lines = [`Drill: ${report.steps.join(" -> ")}${flag("--reverse") ? " (presenters first, on purpose)" : ""}`];
    for (const [stage, c] of Object.entries(report.byStage))
        lines.push(`  ${stage.padEnd(14)} sent ${c.sent}, accepted ${c.accepted}, refused ${c.refused}`);
    lines.push(`  total          sent ${report.totals.sent}, accepted ${report.totals.accepted}, refused ${report.totals.refused}`);
    lines.push(`Timeline: ${report.svg}`, `Data: ${report.json}`);
    process.stdout.write(lines.join("\n") + "\n");
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`drill: ${(e as Error).message}\n`);
            process.exit(1);
        },
    );
}
