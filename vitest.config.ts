import { defineConfig } from "vitest/config";

// The JSON report is what `.ci/run` reads for its closing "N passed, N failed"
// line, so a run that executed nothing can never look green.
export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        reporters: ["default", "json"],
        outputFile: { json: "test-results.json" },
        testTimeout: 60_000,
        hookTimeout: 600_000,
        pool: "forks",
        // Stops the local clusters the live suites started (test/live/).
        globalSetup: ["test/live/teardown.ts"],
    },
});
