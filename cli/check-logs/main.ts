// `npm run check-logs -- [--stack S] [--values-from FILE] [--json] [LOGFILE ... | -]`:
// searches logs for leaked secret values and unmasked secret fields (docs/runbook.md
// section 4: "Ensure no secrets appear in logs. Search for [MASKED]").
// See cli/check-logs/args.ts for usage and exit codes.
import { join } from "node:path";
import { defaultIo, main } from "./cli";
import { spawnRunner } from "../common";

main(process.argv.slice(2), defaultIo(join(__dirname, "..", ".."), spawnRunner)).then(
    (code) => {
        process.exitCode = code;
    },
    (e: unknown) => {
        // An unexpected failure: its message, never a stack of values.
        process.stderr.write(`check-logs: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 2;
    },
);
