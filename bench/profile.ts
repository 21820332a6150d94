// CPU profiles of figure 3's programs, for finding where the time goes:
// one warm-up run of each, then one profiled run of each (V8's sampling
// profiler through node:inspector, so only the run itself is profiled),
// written as .cpuprofile files (Chrome DevTools, speedscope) and summarised
// by bench/profileSummary.ts.
//
//   npx tsx bench/profile.ts [services=1000] [out dir=$TMPDIR/titan-bench-profiles]
//   npx tsx bench/profileSummary.ts /tmp/titan-bench-profiles/titan.cpuprofile

import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockRun, countsOf, recordTitanGraph, replayGraph, runBaseline, runTitan } from "./mockRun";
import { scaleScenario } from "./scale";
import { collectGarbage } from "./timing";

async function main(): Promise<void> {
    const services = Number(process.argv[2] ?? 1000);
    const out = process.argv[3] ?? join(tmpdir(), "titan-bench-profiles");
    mkdirSync(out, { recursive: true });
    const sc = scaleScenario(services);
    const { run, graph } = await recordTitanGraph(sc.raw, sc.previous, sc.now);
    const counts = countsOf(run);
    const programs: Record<string, () => Promise<MockRun>> = {
        titan: () => runTitan(sc.raw, sc.previous, sc.now),
        baseline: () => runBaseline(counts),
        graph: () => replayGraph(graph),
    };
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    for (const [name, program] of Object.entries(programs)) {
        await program();
        collectGarbage();
        await session.post("Profiler.start");
        const r = await program();
        const { profile } = await session.post("Profiler.stop");
        const file = join(out, `${name}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        const registrations = Object.values(r.registered).reduce((a, b) => a + b, 0);
        process.stdout.write(`${name}: ${r.ms.toFixed(0)} ms, ${registrations} registrations -> ${file}\n`);
    }
    session.disconnect();
}

main().catch((e: unknown) => {
    process.stderr.write(`profile failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
});
