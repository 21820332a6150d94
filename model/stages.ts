// What each stage means for who holds which generation, and which stage may
// follow which. Every operation moves one secret one step (Tink-style).

import { defaultKeyId, secretSlots } from "./config";
import { ConfigIssue, configKey, configPath } from "./errors";
import { verificationJobName } from "./names";
import { freshKeyId } from "./ledger";
import { HOUR_MS, formatDuration } from "./time";
import { LedgerEntry, SecretSpec, Stage } from "./types";

/** The keys one role holds, primary first. */
export interface RoleView {
    generations: number[];
    keyIds: string[];
}

/** Who holds which generation at a (generation, stage) point. */
export interface SecretView {
    verifier: RoleView;
    presenter: RoleView;
    /** Generations whose key material must exist, newest first. */
    live: number[];
}

export interface StagePoint {
    generation: number;
    stage: Stage;
}

/**
 * The view of a stage (docs/DESIGN.md): `stable`/`compromised` N: N everywhere;
 * `overlap` N: verifiers N and N-1, presenters N; `revert` N: verifiers keep
 * N and N-1 unchanged, presenters go back to N-1.
 */
export function viewOf(p: StagePoint, keyIdOf: (generation: number) => string): SecretView {
    const n = p.generation;
    const role = (gens: number[]): RoleView => ({ generations: gens, keyIds: gens.map(keyIdOf) });
    switch (p.stage) {
        case "stable":
        case "compromised":
            return { verifier: role([n]), presenter: role([n]), live: [n] };
        case "overlap":
            return { verifier: role([n, n - 1]), presenter: role([n]), live: [n, n - 1] };
        case "revert":
            return { verifier: role([n, n - 1]), presenter: role([n - 1]), live: [n, n - 1] };
    }
}

/** The view the config asks for. */
export function specView(s: SecretSpec): SecretView {
    return viewOf(s, (g) => (g === s.generation ? s.keyId : s.previousKeyId));
}

/** The view the ledger recorded at the last successful `pulumi up`. */
export function ledgerView(e: LedgerEntry, secret: string): SecretView {
    const keyIdOf = (g: number) => e.keys.find((k) => k.generation === g)?.keyId ?? defaultKeyId(secret, g);
    const view = viewOf(e, keyIdOf);
    return e.presentersHeldAt === undefined ? view : heldView(view, e.presentersHeldAt, keyIdOf);
}

/**
 * A cluster whose verifiers have taken a stage while its presenters stay on
 * `held` (a generation the verifiers still hold), until every cluster's
 * verifiers hold the new one.
 */
export function heldView(view: SecretView, held: number, keyIdOf: (generation: number) => string): SecretView {
    return { ...view, presenter: { generations: [held], keyIds: [keyIdOf(held)] } };
}

export function sameRoleView(a: RoleView | undefined, b: RoleView | undefined): boolean {
    return (
        a !== undefined &&
        b !== undefined &&
        a.keyIds.join("\u0000") === b.keyIds.join("\u0000") &&
        a.generations.join(",") === b.generations.join(",")
    );
}

export function describePoint(p: StagePoint): string {
    return `${p.stage} at generation ${p.generation}`;
}

/**
 * The stages that may follow `p` in one `pulumi up`. A verifier that holds
 * one credential at a time (`slots` 1) cannot overlap: it moves from stable N
 * straight to stable N+1, accepting failed logins until presenters restart.
 * Generations are consecutive (overlap N holds N and N-1); after overlap 3
 * -> revert -> stable 2 the next overlap is 3 again, with a new key, so it
 * needs a key ID of its own (checkTransition: a key ID is never reused).
 */
export function nextSteps(p: StagePoint, slots: 1 | 2 = 2): StagePoint[] {
    const n = p.generation;
    const live = p.stage === "overlap" || p.stage === "revert" ? [n, n - 1] : [n];
    const fresh = Math.max(...live) + 1;
    const forward: StagePoint = slots === 1 ? { stage: "stable", generation: fresh } : { stage: "overlap", generation: fresh };
    const steps: StagePoint[] = [];
    switch (p.stage) {
        case "stable":
            steps.push(forward);
            break;
        case "compromised":
            steps.push({ stage: "stable", generation: n }, forward);
            break;
        case "overlap":
            steps.push({ stage: "stable", generation: n }, { stage: "revert", generation: n });
            break;
        case "revert":
            steps.push({ stage: "stable", generation: n - 1 }, { stage: "overlap", generation: n });
            break;
    }
    // Emergency: a fresh generation, or, where two are live, keep one and
    // drop the other. From a single live generation, "compromised" at that
    // same generation would keep the leaked key: not a step.
    steps.push({ stage: "compromised", generation: fresh });
    if (live.length > 1) for (const g of live) steps.push({ stage: "compromised", generation: g });
    return steps;
}

export function isNextStep(from: StagePoint, to: StagePoint, slots: 1 | 2 = 2): boolean {
    return nextSteps(from, slots).some((s) => s.stage === to.stage && s.generation === to.generation);
}

/** When the minimum overlap of `prev` ends, if moving to `to` has to wait for it. */
export function overlapGuardUntil(prev: LedgerEntry, to: StagePoint, minOverlapHours: number): Date | undefined {
    if (prev.stage !== "overlap" || to.stage !== "stable" || to.generation !== prev.generation) return undefined;
    return new Date(Date.parse(prev.stageAppliedAt) + minOverlapHours * HOUR_MS);
}

/**
 * The guards of a step: the minimum overlap, and an API key's verification.
 * Each holds to the stricter of what was in force when the overlap was
 * applied (the ledger's `guard`) and what the config says now, so neither
 * can be edited away in the change that retires the secondary; only `force`
 * overrides them, and the ledger records it (`forced`).
 */
function guardRefusals(prev: LedgerEntry, s: SecretSpec, now: Date): { guard: string; issue: ConfigIssue }[] {
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    const out: { guard: string; issue: ConfigIssue }[] = [];
    const to: StagePoint = { generation: s.generation, stage: s.stage };
    const minOverlapHours = Math.max(s.minOverlapHours, prev.guard?.minOverlapHours ?? 0);
    const until = overlapGuardUntil(prev, to, minOverlapHours);
    if (until !== undefined && now.getTime() < until.getTime()) {
        const waited = now.getTime() - Date.parse(prev.stageAppliedAt);
        const recorded =
            prev.guard !== undefined && prev.guard.minOverlapHours > s.minOverlapHours
                ? `, as in force when the overlap was applied (the config now says ${s.minOverlapHours})`
                : "";
        out.push({
            guard: "minOverlapHours",
            issue: {
                key: at("stage"),
                found: `stable at generation ${s.generation} only ${formatDuration(waited)} after overlap at generation ${prev.generation} was applied (${prev.stageAppliedAt})`,
                allowed: `stable at generation ${s.generation} from ${until.toISOString()} on, when minOverlapHours (${minOverlapHours}${recorded}) have passed and in-flight messages signed with generation ${prev.generation - 1} are done`,
                fix: `wait ${formatDuration(until.getTime() - now.getTime())}, or override with pulumi config set --path '${configPath(["secrets", s.name, "force"])}' true`,
            },
        });
    }
    // An API key is proven by its verification Job before the old one goes.
    const verificationRequired = (s.kind === "apiKey" && s.verification !== undefined) || prev.guard?.verification === true;
    const retiring = prev.stage === "overlap" && to.stage === "stable" && to.generation === prev.generation;
    if (s.kind === "apiKey" && verificationRequired && retiring && prev.verified?.generation !== to.generation) {
        const removed =
            s.verification === undefined
                ? " (verification was required when the overlap was applied; removing it from the config does not lift that)"
                : "";
        out.push({
            guard: "verification",
            issue: {
                key: at("stage"),
                found: `stable at generation ${s.generation}, but the verification of generation ${s.generation} has not succeeded (the ledger records ${prev.verified ? `generation ${prev.verified.generation}` : "none"})${removed}`,
                allowed: `stable once the Job ${verificationJobName(s.name, s.generation)} has succeeded in an up at overlap; run pulumi up at overlap again to re-run it (kubectl logs job/${verificationJobName(s.name, s.generation)} says why it failed)`,
                fix: `keep stage overlap (with its verification) and run pulumi up; to skip the proof, pulumi config set --path '${configPath(["secrets", s.name, "force"])}' true`,
            },
        });
    }
    return out;
}

/** The guards that `force` lets this step pass (recorded in the ledger and said in the plan). */
export function forcedGuards(prev: LedgerEntry | undefined, s: SecretSpec, now: Date): string[] {
    if (prev === undefined || !s.force) return [];
    return guardRefusals(prev, s, now).map((r) => r.guard);
}

/**
 * Checks that the config's stage may follow the ledger's, and that live
 * generations keep their key IDs. `now` is injected so tests control time.
 */
export function checkTransition(prev: LedgerEntry | undefined, s: SecretSpec, now: Date): ConfigIssue[] {
    if (prev === undefined) return [];
    const at = (...p: string[]) => configKey(["secrets", s.name, ...p]);
    const issues: ConfigIssue[] = [];
    if (prev.kind !== s.kind) {
        return [
            {
                key: at("kind"),
                found: `${JSON.stringify(s.kind)}, but the ledger records ${JSON.stringify(prev.kind)}`,
                allowed: `${JSON.stringify(prev.kind)} (a secret keeps its kind; declare a new secret instead)`,
            },
        ];
    }
    const to: StagePoint = { generation: s.generation, stage: s.stage };
    const same = prev.generation === to.generation && prev.stage === to.stage;
    const slots = secretSlots(s);
    if (!same && !isNextStep(prev, to, slots)) {
        const options = nextSteps(prev, slots).map(describePoint);
        issues.push({
            key: at("stage"),
            found: `${describePoint(to)}, but the last applied stage is ${describePoint(prev)}`,
            allowed: `${describePoint(prev)} (no change), or one step: ${options.join("; ")}`,
        });
        return issues;
    }
    if (!s.force) issues.push(...guardRefusals(prev, s, now).map((r) => r.issue));
    // A live generation keeps its key ID: verifiers look keys up by it. A new
    // key never takes the key ID of a retired one.
    for (const g of specView(s).live) {
        const keyId = g === s.generation ? s.keyId : s.previousKeyId;
        const recorded = prev.keys.find((k) => k.generation === g);
        // Compared ignoring case, as across secrets (configNames.ts checkKeyIds).
        if (!recorded && (prev.retiredKeyIds ?? []).some((r) => r.toLowerCase() === keyId.toLowerCase())) {
            const field = g === s.generation ? "keyId" : "previousKeyId";
            const fresh = freshKeyId(s.name, g, prev.retiredKeyIds);
            issues.push({
                key: at(field),
                found: `${JSON.stringify(keyId)} for the new key of generation ${g}, but that key ID named a key that has been retired`,
                allowed: "a key ID that no key of this secret ever had (verifiers and logs name a key by it)",
                fix: `pulumi config set --path '${configPath(["secrets", s.name, field])}' ${fresh}`,
            });
        }
        if (recorded && recorded.keyId !== keyId) {
            const field = g === s.generation ? "keyId" : "previousKeyId";
            issues.push({
                key: at(field),
                found: `${JSON.stringify(keyId)} for generation ${g}, which is live with key ID ${JSON.stringify(recorded.keyId)}`,
                allowed: `${JSON.stringify(recorded.keyId)}: a live generation keeps its key ID`,
                fix: `pulumi config set --path '${configPath(["secrets", s.name, field])}' ${recorded.keyId}`,
            });
        }
    }
    return issues;
}
