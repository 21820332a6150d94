// `npm run rotate -- <command>`: rotation status, plan, and stage changes
// written into Pulumi.<stack>.yaml. See cli/rotate/args.ts for usage
// and exit codes, and README ("Rotating the HMAC key") for the steps.
import { join } from "node:path";
import { defaultIo, runCommand } from "./cli";
import { spawnRunner } from "../common";

void runCommand(process.argv.slice(2), defaultIo(join(__dirname, "..", ".."), spawnRunner)).then((code) => {
    process.exitCode = code;
});
