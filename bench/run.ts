// `npm run bench`: seven figures, each a ratio against a baseline measured in
// the same run; prints Markdown tables and writes bench/results.json
// (git-ignored; a run of some figures writes only those). Figures 1, 2 and
// 7 are structural (exact, machine-independent; test/bench.test.ts asserts
// them on small fleets); 3 to 6 are timings (4 to 6 through the real
// engine, 6 on the local control plane).
// The figures themselves are in bench/bench.ts.
//
//   npm run bench                      # everything (a few minutes on 2 cores)
//   npm run bench -- --figures=1,2     # only some figures
//   npm run bench -- --figures=5,6     # the refused preview, and the overlap up on the local control plane
//   npm run bench -- --figures=7       # one key ring across N clusters (a second or two)
//   npm run bench -- --smoke           # every figure at the smallest sizes (a check that it runs; writes no file)

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FULL, SMOKE, benchReport, runBench } from "./bench";

const FIGURES = [1, 2, 3, 4, 5, 6, 7];
const USAGE = `usage: npm run bench -- [--figures=${FIGURES.join(",")}] [--smoke]`;

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    const unknown = args.filter((a) => a !== "--smoke" && !a.startsWith("--figures="));
    if (unknown.length > 0) {
        process.stderr.write(`unknown argument ${unknown.join(" ")}\n${USAGE}\n`);
        return 2;
    }
    const smoke = args.includes("--smoke");
    const figures = args
        .find((a) => a.startsWith("--figures="))
        ?.slice("--figures=".length)
        .split(",")
        .map(Number);
    if (figures && figures.some((n) => !FIGURES.includes(n))) {
        process.stderr.write(`--figures takes numbers from 1 to ${FIGURES.length}\n${USAGE}\n`);
        return 2;
    }
    const results = await runBench({ ...(smoke ? SMOKE : FULL), figures, progress: (s) => process.stderr.write(`  .. ${s}\n`) });
    process.stdout.write(`${benchReport(results)}\n`);
    if (!smoke) {
        const out = join(__dirname, "results.json");
        writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
        process.stdout.write(`Wrote ${out}.\n`);
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exit(1);
    },
);
