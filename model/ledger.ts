// The rotation ledger: per secret, where it stands and since when. It is the
// stack output `ledger` and, read back at the next up, the record the
// overlap guard and the due dates are computed from. It never holds a value.

import { z } from "zod";
import { SecretView } from "./stages";
import { defaultKeyId } from "./config";
import { KEY_ID, KEY_ID_RULE } from "./keyId";
import { nameMap } from "./schema";
import { dueDate, isoTime } from "./time";
import { KINDS, Ledger, LedgerEntry, LedgerKey, STAGES, SecretSpec } from "./types";

/** What the config declares that the ledger records with each row. */
export interface RowContext {
    /** Guards that `force` let this step pass (from checkTransition's forcedGuards). */
    forced: string[];
    /** A workload stack whose presenters stay on this generation (followKeyRing). */
    presentersHeldAt?: number;
}

/** The new ledger row for a secret, carrying over times that did not change. */
export function ledgerEntry(
    s: SecretSpec,
    view: SecretView,
    prev: LedgerEntry | undefined,
    now: Date,
    ctx: RowContext = { forced: [] },
): LedgerEntry {
    const nowIso = now.toISOString();
    const sameStage = prev !== undefined && prev.generation === s.generation && prev.stage === s.stage;
    const keys = view.live.map((generation) => ({
        generation,
        keyId: generation === s.generation ? s.keyId : s.previousKeyId,
        createdAt: prev?.keys.find((k) => k.generation === generation)?.createdAt ?? nowIso,
    }));
    const presenterGeneration = view.presenter.generations[0];
    const bornAt = keys.find((k) => k.generation === presenterGeneration)?.createdAt ?? nowIso;
    const entry: LedgerEntry = {
        kind: s.kind,
        generation: s.generation,
        stage: s.stage,
        stageAppliedAt: sameStage ? prev.stageAppliedAt : nowIso,
        presenterKeyId: view.presenter.keyIds[0],
        verifierKeyIds: view.verifier.keyIds,
        keys,
        dueAt: dueDate(bornAt, s.maxAgeDays).toISOString(),
        verifiers: s.verifiers,
        presenters: s.presenters,
        // What held when the stage was applied keeps holding while it lasts.
        guard:
            sameStage && prev.guard
                ? prev.guard
                : { minOverlapHours: s.minOverlapHours, verification: s.kind === "apiKey" && s.verification !== undefined },
    };
    const retired = [
        ...(prev?.retiredKeyIds ?? []),
        ...(prev?.keys ?? []).filter((k) => !view.live.includes(k.generation)).map((k) => k.keyId),
    ];
    if (retired.length > 0) entry.retiredKeyIds = [...new Set(retired)].sort();
    const forced = sameStage ? prev.forced : ctx.forced.length > 0 ? { at: nowIso, guards: ctx.forced } : undefined;
    if (forced) entry.forced = forced;
    if (s.stage === "compromised" && s.incident) entry.incident = s.incident;
    if (ctx.presentersHeldAt !== undefined) entry.presentersHeldAt = ctx.presentersHeldAt;
    if (s.kind === "apiKey") {
        if (prev?.verified) entry.verified = prev.verified;
        // A key that left every presenter is still valid at the exchange
        // until a person revokes it there and records that in config.
        const dropped = (prev?.keys ?? [])
            .filter((k) => !view.live.includes(k.generation))
            .map((k) => ({ generation: k.generation, keyId: k.keyId }));
        const pending = [...(prev?.pendingRevocations ?? []), ...dropped].filter(
            (k) => !s.revoked.includes(k.generation) && !view.live.includes(k.generation),
        );
        const unique = [...new Map(pending.map((k) => [k.generation, k])).values()].sort((a, b) => a.generation - b.generation);
        if (unique.length > 0) entry.pendingRevocations = unique;
    }
    return entry;
}

/**
 * A key ID for a new key of `generation` that no retired key had: the
 * default `<secret>-g<N>`, or, when a generation number comes back (overlap 3
 * -> revert -> stable 2 -> overlap 3), `<secret>-g<N>-2`, `-3`, ...
 */
export function freshKeyId(secret: string, generation: number, retired: readonly string[] = []): string {
    const base = defaultKeyId(secret, generation);
    let id = base;
    const taken = new Set(retired.map((r) => r.toLowerCase()));
    for (let i = 2; taken.has(id.toLowerCase()); i++) id = `${base}-${i}`;
    return id;
}

/** The key IDs a step to `to` gives, as `rotate` writes them: a live generation keeps its own, a new key gets a fresh one. */
export function keyIdsFor(
    secret: string,
    to: { generation: number },
    prev: LedgerEntry | undefined,
): { keyId: string; previousKeyId: string } {
    const idOf = (g: number) => prev?.keys.find((k) => k.generation === g)?.keyId ?? freshKeyId(secret, g, prev?.retiredKeyIds);
    return { keyId: idOf(to.generation), previousKeyId: idOf(to.generation - 1) };
}

/** An empty ledger, without a prototype (see Ledger). */
export function emptyLedger(): Ledger {
    return Object.create(null) as Ledger;
}

/** The key the presenters use, among the live ones (undefined when the row names none of them). */
export function presenterKey(e: LedgerEntry): LedgerKey | undefined {
    return e.keys.find((k) => k.keyId === e.presenterKeyId);
}

/** The latest time a ledger records as past: when a stage was applied, a key created, a verification or a force recorded. */
export interface LastRecord {
    secret: string;
    at: string;
    /** What happened then, for a person: "overlap at generation 2 applied", "key titan-hmac-g2 created", ... */
    what: string;
}

/**
 * The ledger's latest record of something that happened (dueAt is a future
 * date and not one). A clock earlier than it is refused by the program and
 * by `rotate`: it would record a stage as applied before the last one (or a
 * forced retirement before its key existed), and measure minOverlapHours
 * and ages backwards.
 */
export function lastRecord(ledger: Ledger): LastRecord | undefined {
    let last: LastRecord | undefined;
    const see = (secret: string, at: string | undefined, what: string) => {
        if (at !== undefined && (last === undefined || Date.parse(at) > Date.parse(last.at))) last = { secret, at, what };
    };
    for (const [secret, e] of Object.entries(ledger)) {
        see(secret, e.stageAppliedAt, `${e.stage} at generation ${e.generation} applied`);
        for (const k of e.keys) see(secret, k.createdAt, `key ${k.keyId} created`);
        see(secret, e.verified?.at, `generation ${e.verified?.generation} verified`);
        see(secret, e.forced?.at, `force recorded`);
    }
    return last;
}

/** Why `now` is refused for this ledger (it is earlier than the ledger's last record), or undefined. */
export function clockBehind(ledger: Ledger, now: Date): string | undefined {
    const last = lastRecord(ledger);
    if (last === undefined || now.getTime() >= Date.parse(last.at)) return undefined;
    return `the clock (${now.toISOString()}) is earlier than the last up's ledger: ${last.secret}: ${last.what} at ${last.at}`;
}

export function isOverdue(entry: LedgerEntry, now: Date): boolean {
    return Date.parse(entry.dueAt) <= now.getTime();
}

const generationNumber = z.number().int().min(1).max(1_000_000);
/** A key ID as the program writes it (from config, model/keyId.ts): a hand-edited one with a line break would forge a line of rotate's and the policy pack's output. */
const keyId = z.string().regex(KEY_ID, KEY_ID_RULE);

// Strict at every level: a field this version does not know (written by a
// newer version, or by hand) refuses the row instead of being dropped. Dropped,
// it would be gone from the next ledger this version writes, and with it
// whatever it recorded (a guard, a pending revocation) for the version that
// wrote it; refused, the secret does not move until a person looks (see
// readLedger), as for any row that does not parse.
const entrySchema = z
    .strictObject({
        kind: z.enum(KINDS),
        generation: generationNumber,
        stage: z.enum(STAGES),
        stageAppliedAt: isoTime,
        presenterKeyId: keyId,
        verifierKeyIds: z.array(keyId).min(1),
        keys: z.array(z.strictObject({ generation: generationNumber, keyId, createdAt: isoTime })).min(1),
        dueAt: isoTime,
        incident: z.string().optional(),
        verified: z.strictObject({ generation: generationNumber, at: isoTime }).optional(),
        pendingRevocations: z.array(z.strictObject({ generation: generationNumber, keyId })).optional(),
        verifiers: z.array(z.string()).optional(),
        presenters: z.array(z.string()).optional(),
        guard: z
            .strictObject({
                minOverlapHours: z
                    .number()
                    .int()
                    .min(0)
                    .max(24 * 365),
                verification: z.boolean(),
            })
            .optional(),
        retiredKeyIds: z.array(keyId).optional(),
        forced: z.strictObject({ at: isoTime, guards: z.array(z.string()) }).optional(),
        presentersHeldAt: generationNumber.optional(),
        // A nameMap: a plain record drops a `__proto__` cluster without a word (zod skips that key).
        clusters: nameMap(
            z.string(),
            z.strictObject({
                verifiers: z.array(generationNumber),
                presenters: z.array(generationNumber),
                stage: z.enum(STAGES),
                generation: generationNumber,
            }),
        ).optional(),
    })
    .superRefine((row, ctx) => {
        // The program records a stage at or after the creation of its generation's key
        // (the clock guard, clockBehind): a row that says otherwise was not written by it.
        const key = row.keys.find((k) => k.generation === row.generation);
        if (key && Date.parse(row.stageAppliedAt) < Date.parse(key.createdAt))
            ctx.addIssue({
                code: "custom",
                path: ["stageAppliedAt"],
                message: `${row.stage} at generation ${row.generation} applied at ${row.stageAppliedAt}, before its key ${key.keyId} was created (${key.createdAt}): a stage is never applied before its key existed`,
            });
        // The row's keys are what its other fields name: the program writes one key per live
        // generation, its own among them, and names the presenters' and verifiers' keys from
        // those. Read otherwise, the next row would not find the key by its generation and
        // record it as created now: its age, and whether it is overdue, would start again.
        if (!key)
            ctx.addIssue({ code: "custom", path: ["keys"], message: `no key of generation ${row.generation}, the row's own generation` });
        row.keys.forEach((k, i) => {
            if (row.keys.findIndex((o) => o.generation === k.generation) !== i)
                ctx.addIssue({ code: "custom", path: ["keys", i], message: `a second key of generation ${k.generation}` });
        });
        const ids = new Set(row.keys.map((k) => k.keyId));
        for (const [field, id] of [["presenterKeyId", row.presenterKeyId], ...row.verifierKeyIds.map((v) => ["verifierKeyIds", v])]) {
            if (!ids.has(id))
                ctx.addIssue({
                    code: "custom",
                    path: [field],
                    // The presenters' key dates the secret: without it the row would read as never overdue.
                    message:
                        field === "presenterKeyId"
                            ? `the presenters' key ${id} is not among the row's keys (${[...ids].join(", ")}), so the secret's age and due date cannot be read`
                            : `${id}, which is not the key ID of any of the row's keys`,
                });
        }
    });

/** The ledger of the last up, and the rows it could not read (secret -> why). */
export interface LedgerRead {
    ledger: Ledger;
    unreadable: Map<string, string>;
}

function describeRowIssue(i: z.core.$ZodIssue): string {
    const where = i.path.join(".") || "the row";
    if (i.code === "unrecognized_keys")
        return `${where}: field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => JSON.stringify(k)).join(", ")} that this version does not know (written by a newer version or by hand; refused rather than dropped)`;
    return `${where}: ${i.message}`;
}

/**
 * Reads a ledger from the last stack outputs. A row that does not parse (a
 * hand edit, a date that is not a date) is set apart in `unreadable`, never
 * read as "first seen": planRotation refuses to move that secret until a
 * person looks (fail closed).
 */
export function readLedger(raw: unknown): LedgerRead {
    const ledger = emptyLedger();
    const unreadable = new Map<string, string>();
    if (raw === undefined || raw === null) return { ledger, unreadable };
    if (typeof raw !== "object" || Array.isArray(raw)) {
        unreadable.set("(the whole ledger)", `it is ${Array.isArray(raw) ? "a list" : typeof raw}, not a map of secrets`);
        return { ledger, unreadable };
    }
    for (const [name, row] of Object.entries(raw as Record<string, unknown>)) {
        const parsed = entrySchema.safeParse(row);
        if (parsed.success) ledger[name] = parsed.data as LedgerEntry;
        else unreadable.set(name, parsed.error.issues.map(describeRowIssue).join("; "));
    }
    return { ledger, unreadable };
}
