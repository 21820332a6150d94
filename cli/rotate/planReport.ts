// `rotate plan`: what the next `pulumi up` does to rotations, from
// admitRotation (the program's own decision), with no values: per moving
// secret its from/to stages, which workloads roll in which wave, which keep
// their pods, the warnings, or the refusal with the program's messages.

import {
    ConfigError,
    ConfigIssue,
    Ledger,
    Plan,
    Role,
    SecretSpec,
    StackSpec,
    StagePoint,
    describePoint,
    ExchangeKeyPresence,
    admitRotation,
    firstRole,
} from "../../model";

export interface WorkloadRoll {
    workload: string;
    wave: number;
}

export interface RoleChange {
    /** Generations and key IDs the role holds after the up, primary first. */
    generations: number[];
    keyIds: string[];
    /** Workloads of this role that restart, with their wave. */
    rolling: WorkloadRoll[];
    /** Workloads of this role that keep their pods. */
    unchanged: string[];
}

export interface SecretChange {
    secret: string;
    kind: string;
    /** The last applied stage; absent when the ledger has never seen the secret. */
    from?: StagePoint;
    to: StagePoint;
    moving: boolean;
    order: string;
    verifiers: RoleChange;
    presenters: RoleChange;
}

export interface PlanReport {
    stack: string;
    file: string;
    now: string;
    ledger: { source: string; note: string };
    refused: boolean;
    /** The program's refusal: the same message `pulumi preview` fails with. */
    refusal?: { message: string; issues: ConfigIssue[] };
    changes: SecretChange[];
    /** Every restarting workload, wave by wave: a wave starts when the one before has rolled out. */
    waves: string[][];
    notRestarted: string[];
    warnings: string[];
    /** The info lines the program logs for this up. */
    summary: string[];
}

export interface PlanMeta {
    stack: string;
    file: string;
    ledgerSource: string;
    ledgerNote: string;
}

function orderOf(spec: SecretSpec): string {
    const first = firstRole(spec);
    if (first === "verifier") return "verifiers first, then presenters";
    if (first === "presenter") return "presenters first, then verifiers";
    return spec.stage === "compromised"
        ? "everything at once (no ordering; auth failures expected)"
        : "one side changes; no ordering needed";
}

function changesOf(plan: Plan): SecretChange[] {
    const waveOf = new Map<string, number>();
    plan.waves.forEach((wave, i) => wave.forEach((w) => waveOf.set(w, i + 1)));
    const out: SecretChange[] = [];
    for (const p of plan.secrets) {
        const role = (r: Role): RoleChange => {
            const members = r === "verifier" ? p.spec.verifiers : p.spec.presenters;
            const changed = (w: string) =>
                plan.workloads.find((x) => x.service.name === w)?.consumes.some((c) => c.secret === p.spec.name && c.changed) ?? false;
            return {
                generations: p.view[r].generations,
                keyIds: p.view[r].keyIds,
                rolling: members.filter(changed).map((workload) => ({ workload, wave: waveOf.get(workload) ?? 0 })),
                unchanged: members.filter((w) => !changed(w)),
            };
        };
        const verifiers = role("verifier");
        const presenters = role("presenter");
        if (!p.moving && verifiers.rolling.length === 0 && presenters.rolling.length === 0) continue;
        const change: SecretChange = {
            secret: p.spec.name,
            kind: p.spec.kind,
            to: { generation: p.spec.generation, stage: p.spec.stage },
            moving: p.moving,
            order: orderOf(p.spec),
            verifiers,
            presenters,
        };
        if (p.previous) change.from = { generation: p.previous.generation, stage: p.previous.stage };
        out.push(change);
    }
    return out;
}

/** Plans the next up; a ConfigError becomes a refused report (anything else is thrown). */
export function planReport(
    spec: StackSpec,
    ledger: Ledger,
    now: Date,
    meta: PlanMeta,
    exchange: ExchangeKeyPresence,
    unreadable: ReadonlyMap<string, string> = new Map(),
): PlanReport {
    const base = {
        stack: meta.stack,
        file: meta.file,
        now: now.toISOString(),
        ledger: { source: meta.ledgerSource, note: meta.ledgerNote },
    };
    let plan: Plan;
    try {
        plan = admitRotation(spec, ledger, now, exchange, unreadable);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return { ...base, refused: true, refusal: refusalOf(e), changes: [], waves: [], notRestarted: [], warnings: [], summary: [] };
    }
    return {
        ...base,
        refused: false,
        changes: changesOf(plan),
        waves: plan.waves,
        notRestarted: plan.workloads.filter((w) => !w.changed).map((w) => w.service.name),
        warnings: plan.warnings,
        summary: plan.summary,
    };
}

export function refusalOf(e: ConfigError): { message: string; issues: ConfigIssue[] } {
    return { message: e.message, issues: e.issues };
}

const fromText = (c: SecretChange) => (c.from ? describePoint(c.from) : "not in the ledger (first seen)");
const rolls = (r: RoleChange) =>
    r.rolling.length > 0 ? r.rolling.map((x) => `${x.workload} (wave ${x.wave})`).join(", ") : "none restart";

export function formatPlanText(r: PlanReport): string {
    const out = [`Rotation plan for stack ${r.stack} (${r.file}) at ${r.now}`, `Ledger: ${r.ledger.note}`, ""];
    if (r.refused && r.refusal) {
        out.push("REFUSED: the next pulumi up fails before any resource changes:", r.refusal.message);
        return out.join("\n") + "\n";
    }
    if (r.changes.length === 0) out.push("No rotation changes: the next up leaves every secret where it is.");
    for (const c of r.changes) {
        out.push(`${c.secret} (${c.kind}): ${fromText(c)} -> ${describePoint(c.to)}; ${c.order}`);
        out.push(
            `  verifiers hold ${c.verifiers.keyIds.join(" + ")}: ${rolls(c.verifiers)}${c.verifiers.unchanged.length ? `; unchanged: ${c.verifiers.unchanged.join(", ")}` : ""}`,
        );
        out.push(
            `  presenters use ${c.presenters.keyIds.join(" + ")}: ${rolls(c.presenters)}${c.presenters.unchanged.length ? `; unchanged: ${c.presenters.unchanged.join(", ")}` : ""}`,
        );
    }
    if (r.waves.length > 0) {
        out.push("", "Waves (each starts when the one before has rolled out):");
        r.waves.forEach((w, i) => out.push(`  ${i + 1}. ${w.join(", ")}`));
    }
    out.push("", `Not restarted: ${r.notRestarted.join(", ") || "none"}`);
    for (const w of r.warnings) out.push(`WARNING: ${w}`);
    return out.join("\n") + "\n";
}

const code = (s: string) => `\`${s}\``;
const codes = (xs: string[]) => xs.map(code).join(", ");

/** The same plan as a pull-request comment (GitHub-flavoured markdown). */
/**
 * The waves as a Mermaid flowchart (GitHub renders it in the comment): one
 * box per wave, left to right, each holding the workloads that roll in it
 * with the secret, role and key IDs they roll for. Undefined when nothing
 * rolls. Names and key IDs are Kubernetes-style names, safe inside quotes.
 */
export function planMermaid(r: PlanReport): string | undefined {
    if (r.refused || r.waves.length === 0) return undefined;
    const why = new Map<string, string[]>();
    for (const c of r.changes) {
        for (const [role, change] of [
            ["verifier", c.verifiers],
            ["presenter", c.presenters],
        ] as const) {
            for (const w of change.rolling)
                why.set(w.workload, [...(why.get(w.workload) ?? []), `${c.secret} ${role}: ${change.keyIds.join(" + ")}`]);
        }
    }
    const lines = ["flowchart LR"];
    let n = 0;
    r.waves.forEach((wave, i) => {
        lines.push(`  subgraph w${i + 1}["wave ${i + 1}"]`);
        for (const workload of wave) lines.push(`    n${n++}["${[workload, ...(why.get(workload) ?? [])].join("<br/>")}"]`);
        lines.push("  end");
    });
    for (let i = 1; i < r.waves.length; i++) lines.push(`  w${i} --> w${i + 1}`);
    return lines.join("\n");
}

export function formatPlanMarkdown(r: PlanReport): string {
    const out = [`### Rotation plan: stack ${code(r.stack)}`, ""];
    if (r.refused && r.refusal) {
        out.push(":no_entry: **Refused.** The next `pulumi up` fails before any resource changes:", "");
        for (const i of r.refusal.issues) {
            out.push(`- ${code(i.key)}: found ${i.found}; allowed: ${i.allowed}.${i.fix ? ` Fix: ${code(i.fix)}` : ""}`);
        }
    } else if (r.changes.length === 0) {
        out.push("No rotation changes: the next `pulumi up` leaves every secret where it is.");
    } else {
        out.push("| secret | from | to | order | verifiers | presenters |", "| --- | --- | --- | --- | --- | --- |");
        for (const c of r.changes) {
            const cell = (x: RoleChange) =>
                `${codes(x.keyIds)}: ${x.rolling.length ? x.rolling.map((w) => `${code(w.workload)} (wave ${w.wave})`).join(", ") : "none restart"}`;
            out.push(
                `| ${code(c.secret)} | ${fromText(c)} | ${describePoint(c.to)} | ${c.order} | ${cell(c.verifiers)} | ${cell(c.presenters)} |`,
            );
        }
        out.push("", "**Waves** (each starts when the one before has rolled out):", "");
        r.waves.forEach((w, i) => out.push(`${i + 1}. ${codes(w)}`));
        const diagram = planMermaid(r);
        if (diagram) out.push("", "```mermaid", diagram, "```");
    }
    if (!r.refused) out.push("", `**Not restarted:** ${r.notRestarted.length ? codes(r.notRestarted) : "none"}`);
    if (r.warnings.length > 0) {
        out.push("", "> [!WARNING]");
        for (const w of r.warnings) out.push(`> ${w}`);
    }
    out.push(
        "",
        `<sub>${r.ledger.note}. Planned at ${r.now} by \`npm run rotate -- plan --markdown\`; key IDs and generations only, never a value.</sub>`,
    );
    return out.join("\n") + "\n";
}
