// Vitest global setup: after the whole run, stop every local cluster that a
// test of this run started (marked by ensureCluster with this process's pid),
// by pid through cluster.sh down, whether the tests passed or not. A cluster
// started by another run, by .ci/run or by a person is theirs to stop.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_SCRIPT, STARTED_BY_TESTS, clusterDir } from "../../harness/cluster";

export function setup(): void {}

export function teardown(): void {
    const root = clusterDir("");
    if (!existsSync(root)) return;
    for (const name of readdirSync(root)) {
        const marker = join(clusterDir(name), STARTED_BY_TESTS);
        if (!existsSync(marker) || readFileSync(marker, "utf8").trim() !== String(process.pid)) continue;
        try {
            execFileSync("bash", [CLUSTER_SCRIPT, "--name", name, "down"], { stdio: "inherit", timeout: 60_000 });
        } finally {
            rmSync(marker, { force: true });
        }
    }
}
