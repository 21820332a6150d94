// Which stage each rotate command writes, the edits that write it, and the
// legal next steps with the earliest time each is allowed. The legality
// itself is the model's (nextSteps, overlapGuardUntil, planRotation): this
// file only picks one step per command.

import {
    LedgerEntry,
    SecretSpec,
    StagePoint,
    defaultKeyId,
    describePoint,
    freshKeyId,
    hasSecondary,
    nextSteps,
    overlapGuardUntil,
    secretSlots,
} from "../../model";
import { SecretEdit } from "./stackFile";

export type RotateCommand = "advance" | "revert" | "compromise";

export const slotsOf = secretSlots;

/**
 * stable N -> overlap N+1 (stable N+1 when the backend holds one credential);
 * overlap N -> stable N; revert N -> stable N-1; compromised N -> stable N.
 */
export function advanceTarget(p: StagePoint, slots: 1 | 2 = 2): StagePoint {
    switch (p.stage) {
        case "stable":
            return { stage: slots === 1 ? "stable" : "overlap", generation: p.generation + 1 };
        case "overlap":
        case "compromised":
            return { stage: "stable", generation: p.generation };
        case "revert":
            return { stage: "stable", generation: p.generation - 1 };
    }
}

/** overlap N -> revert N; undefined from any other stage. */
export function revertTarget(p: StagePoint): StagePoint | undefined {
    return p.stage === "overlap" ? { stage: "revert", generation: p.generation } : undefined;
}

/** Any stage -> compromised at a fresh generation (one past the newest live one). */
export function compromiseTarget(p: StagePoint): StagePoint {
    return { stage: "compromised", generation: p.generation + 1 };
}

export function targetOf(command: RotateCommand, p: StagePoint, slots: 1 | 2 = 2): StagePoint | undefined {
    if (command === "advance") return advanceTarget(p, slots);
    if (command === "revert") return revertTarget(p);
    return compromiseTarget(p);
}

/** The rotate command that writes `to` from `from`, if one does. */
export function commandFor(from: StagePoint, to: StagePoint, slots: 1 | 2 = 2): RotateCommand | undefined {
    const same = (a: StagePoint | undefined) => a !== undefined && a.stage === to.stage && a.generation === to.generation;
    if (same(advanceTarget(from, slots))) return "advance";
    if (same(revertTarget(from))) return "revert";
    if (same(compromiseTarget(from))) return "compromise";
    return undefined;
}

export interface EditOptions {
    /** compromise: the incident ID (required). */
    incident?: string;
    /** The key ID of a new generation; by default `<secret>-g<N>`, or a fresh one if a retired key had that. */
    keyId?: string;
    /** Key IDs retired keys had (the ledger's retiredKeyIds). */
    retired?: readonly string[];
    /** Write `force: true` (only when retiring the secondary early). */
    force?: boolean;
}

/** What the file declares for a secret, as far as the edits care. */
export interface DeclaredKeys {
    keyId?: unknown;
    previousKeyId?: unknown;
    force?: unknown;
    incident?: unknown;
}

/**
 * The key changes that move `spec` (at its config point) to `to`. Keys that
 * no longer apply go: `force` outside overlap -> stable, `incident` outside
 * `compromised`, `previousKeyId` where no secondary is live. Returns the
 * problems instead when the options do not fit the step.
 */
export function editsFor(
    spec: SecretSpec,
    declared: DeclaredKeys,
    to: StagePoint,
    opts: EditOptions,
): { edits: SecretEdit[]; problems: string[] } {
    const edits: SecretEdit[] = [];
    const problems: string[] = [];
    const set = (key: string, value: SecretEdit["value"]) => edits.push({ secret: spec.name, key, value });
    const retiring = spec.stage === "overlap" && to.stage === "stable" && to.generation === spec.generation;

    if (to.generation !== spec.generation) set("generation", to.generation);
    set("stage", to.stage);

    // Key IDs: a generation keeps the key ID it was created with, and a new
    // key gets one that no retired key had (the default when it is free).
    const declaresKeyIds = declared.keyId !== undefined || declared.previousKeyId !== undefined;
    if (to.generation === spec.generation + 1) {
        const keyId = opts.keyId ?? freshKeyId(spec.name, to.generation, opts.retired ?? []);
        const isDefault = keyId === defaultKeyId(spec.name, to.generation);
        const currentIsDefault = spec.keyId === defaultKeyId(spec.name, spec.generation);
        const needsPrevious = hasSecondary(to.stage) && (!isDefault || !currentIsDefault);
        if (!isDefault || declared.keyId !== undefined) set("keyId", isDefault ? undefined : keyId);
        if (needsPrevious || declared.previousKeyId !== undefined) set("previousKeyId", needsPrevious ? spec.keyId : undefined);
    } else {
        if (opts.keyId !== undefined)
            problems.push(`--key-id applies only to a step to a new generation; ${describePoint(to)} keeps generation ${to.generation}`);
        if (to.generation === spec.generation - 1 && declaresKeyIds) {
            // revert N -> stable N-1: the secondary becomes the only key.
            set("keyId", spec.previousKeyId);
            set("previousKeyId", undefined);
        } else if (!hasSecondary(to.stage) && declared.previousKeyId !== undefined) {
            set("previousKeyId", undefined);
        }
    }

    if (retiring) {
        if (opts.force) set("force", true);
    } else {
        if (opts.force)
            problems.push(
                `--force applies only to retiring the secondary (overlap -> stable at the same generation), not to ${describePoint(to)}`,
            );
        if (declared.force !== undefined) set("force", undefined);
    }

    if (to.stage === "compromised") {
        if (!opts.incident) problems.push("compromise needs --incident <incident ID>");
        else set("incident", opts.incident);
    } else if (declared.incident !== undefined) {
        set("incident", undefined);
    }
    return { edits, problems };
}

export interface NextStep extends StagePoint {
    /** The rotate command that writes this step, when one does (others: edit the file). */
    command?: RotateCommand;
    /** ISO time from which the step is allowed. */
    allowedFrom: string;
    allowedNow: boolean;
    /** Why it has to wait, or what lets it skip the wait. */
    note?: string;
}

/**
 * The legal next steps of a secret whose config matches the ledger (or that
 * the ledger has never seen), with the overlap guard's earliest time.
 */
export function legalNextSteps(spec: SecretSpec, prev: LedgerEntry | undefined, now: Date): NextStep[] {
    const from: StagePoint = prev ?? spec;
    const slots = slotsOf(spec);
    return nextSteps(from, slots).map((to) => {
        const until = prev && overlapGuardUntil(prev, to, spec.minOverlapHours);
        const waits = until !== undefined && until.getTime() > now.getTime();
        const step: NextStep = {
            stage: to.stage,
            generation: to.generation,
            command: commandFor(from, to, slots),
            allowedFrom: (waits && !spec.force ? until : now).toISOString(),
            allowedNow: !waits || spec.force,
        };
        if (until !== undefined) {
            step.note = waits
                ? spec.force
                    ? `force: true skips the minOverlapHours (${spec.minOverlapHours}) wait, which ends ${until.toISOString()}`
                    : `waits minOverlapHours (${spec.minOverlapHours}) after overlap was applied`
                : `minOverlapHours (${spec.minOverlapHours}) have passed`;
        }
        if (to.stage === "compromised") step.note = "emergency: needs an incident ID; auth failures expected";
        else if (slots === 1 && to.stage === "stable" && to.generation === from.generation + 1) {
            step.note = "single-slot backend: logins with the old password fail until each presenter has restarted";
        }
        if (step.command === undefined) delete step.command;
        if (step.note === undefined) delete step.note;
        return step;
    });
}
