// Prints vitest's JSON report as one line, "N passed, N failed, N skipped",
// so a run that tested nothing can never look green. Exits 1 when the report
// is missing, holds no test, or counts a failure.
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-results.json";
if (!existsSync(file)) {
  console.log("0 passed, 0 failed");
  console.error(`test-summary: ${file} is missing: vitest did not run (a step before it failed)`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numTotalTests === 0 || r.numFailedTests > 0 || r.numFailedTestSuites > 0) process.exit(1);
