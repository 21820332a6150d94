// Figure 5: a refused `pulumi preview` against an accepted one, through the
// real engine (.engine/bin), on the same throw-away copy of the dev stack.
//
// One `up` at the committed config leaves a ledger (titan-hmac stable at
// generation 1). Then, interleaved: `preview` with the config unchanged
// (accepted: nothing to change) and `preview` with titan-hmac at a
// generation it may not jump to (refused by the stage check before any
// resource is declared). A refusal is a message for a person; it should
// come back no slower than the answer to an accepted preview. It once took
// 26-80 s, while Node formatted the refusal's stack (components/runError.ts).
//
// Both outcomes are checked on every run, outside the clock: the refused
// preview must fail with the stage check's message, the accepted one must
// succeed and change nothing, or the ratio would compare something else.

import { E2EProject, engineMissing } from "../harness/engine";
import { stackConfig } from "../harness/stackFiles";
import { median } from "./timing";

export interface RefusalOptions {
    /** Untimed previews of each kind before the timed ones. */
    warmup: number;
    /** Timed previews of each kind, interleaved. */
    repeats: number;
}

export type PreviewKind = "accepted" | "refused";

export interface RefusalRow {
    preview: PreviewKind;
    /** titan-hmac's stage in the stack file for this preview. */
    config: string;
    /** What the preview answered (checked on every run). */
    outcome: string;
    repeats: number;
    medianMs: number;
    samples: number[];
}

export type RefusalFigure =
    | {
          /** What the up before the previews applied (the ledger's entry). */
          ledger: string;
          /** The refusal, as the engine printed it (the stage check's line). */
          refusal: string;
          warmup: number;
          rows: RefusalRow[];
          /** Refused median / accepted median. */
          refusedPerAccepted: number;
      }
    | { skipped: string };

const SECRET = "titan-hmac";
/** The ledger after the first up: the committed config's stage. */
const APPLIED = { generation: 1, stage: "stable" };
/** A generation the stage check refuses: two steps at once (stable 1 -> stable 3). */
const SKIPPED = { generation: 3, stage: "stable" };
export const REFUSAL = `found ${SKIPPED.stage} at generation ${SKIPPED.generation}, but the last applied stage is ${APPLIED.stage} at generation ${APPLIED.generation}`;

/** Changes a preview would make, reads and no-ops left out. */
const changing = (changes: Record<string, number>) => Object.entries(changes).filter(([op, n]) => op !== "same" && op !== "read" && n > 0);

export async function figureRefusal(o: RefusalOptions, progress?: (line: string) => void): Promise<RefusalFigure> {
    const missing = engineMissing();
    if (missing) return { skipped: `figure 5 skipped: ${missing}` };
    // The dev stack's config, its exchange keys' secure values included (E2EProject uses the dev passphrase and salt).
    const config = stackConfig("dev").all;
    const secrets = config["titan-secrets:secrets"] as Record<string, Record<string, unknown>>;
    const committed = secrets[SECRET];
    if (committed.generation !== APPLIED.generation || committed.stage !== APPLIED.stage) {
        throw new Error(
            `figure 5: Pulumi.dev.yaml has ${SECRET} at ${String(committed.stage)} g${String(committed.generation)}; the figure expects ${APPLIED.stage} g${APPLIED.generation}`,
        );
    }
    const skipped = { ...secrets, [SECRET]: { ...committed, ...SKIPPED } };
    const project = await E2EProject.create("bench", config);
    try {
        const up = await project.up();
        if (up.error) throw new Error(`figure 5: the first up failed in ${project.dir}: ${up.error.message}\n${up.output.slice(-2000)}`);
        const ledger = ((await project.outputs()).ledger as Record<string, { generation: number; stage: string }>)[SECRET];
        if (ledger?.generation !== APPLIED.generation || ledger.stage !== APPLIED.stage)
            throw new Error(`figure 5: the ledger after the first up has ${SECRET} at ${JSON.stringify(ledger)}`);
        progress?.("figure 5: ledger written");

        const samples: Record<PreviewKind, number[]> = { accepted: [], refused: [] };
        const outcome: Record<PreviewKind, string> = { accepted: "", refused: "" };
        let refusal = "";
        const once = async (kind: PreviewKind, keep: boolean) => {
            project.setConfig("secrets", kind === "accepted" ? secrets : skipped);
            const start = performance.now();
            const step = await project.preview();
            const ms = performance.now() - start;
            // Outside the clock: each preview answered what it should, or its time means nothing.
            if (kind === "refused") {
                if (!step.error)
                    throw new Error(
                        `figure 5: the preview of ${SECRET} at ${SKIPPED.stage} g${SKIPPED.generation} was accepted in ${project.dir}; it must be refused`,
                    );
                const line = step.output.split("\n").find((l) => l.includes(REFUSAL));
                if (!line)
                    throw new Error(
                        `figure 5: the refused preview failed without the stage check's message ("${REFUSAL}"):\n${step.output.slice(-2000)}`,
                    );
                refusal = line.trim();
                outcome.refused = "failed: the stage check's refusal";
            } else {
                if (step.error)
                    throw new Error(
                        `figure 5: the accepted preview failed in ${project.dir}: ${step.error.message}\n${step.output.slice(-2000)}`,
                    );
                const changes = changing(step.changes);
                if (changes.length > 0)
                    throw new Error(
                        `figure 5: the accepted preview would change something after an up at the same config: ${JSON.stringify(step.changes)}`,
                    );
                outcome.accepted = `succeeded, ${step.changes.same ?? 0} unchanged, no changes`;
            }
            if (keep) samples[kind].push(ms);
        };
        for (let i = 0; i < o.warmup; i++) {
            await once("accepted", false);
            await once("refused", false);
        }
        for (let i = 0; i < o.repeats; i++) {
            const order: PreviewKind[] = i % 2 === 0 ? ["refused", "accepted"] : ["accepted", "refused"];
            for (const k of order) await once(k, true);
        }
        project.setConfig("secrets", secrets);
        progress?.("figure 5 done");
        const rows: RefusalRow[] = (["accepted", "refused"] as const).map((k) => ({
            preview: k,
            config:
                k === "accepted"
                    ? `${APPLIED.stage} g${APPLIED.generation} (unchanged, as applied)`
                    : `${SKIPPED.stage} g${SKIPPED.generation} (skips g${APPLIED.generation + 1})`,
            outcome: outcome[k],
            repeats: o.repeats,
            medianMs: median(samples[k]),
            samples: samples[k].map((x) => Math.round(x)),
        }));
        return {
            ledger: `${SECRET} ${ledger.stage} g${ledger.generation}`,
            refusal,
            warmup: o.warmup,
            rows,
            refusedPerAccepted: rows[1].medianMs / rows[0].medianMs,
        };
    } finally {
        project.destroy();
    }
}
