// The rotation ledger: per secret, where it stands and since when. It is the
// stack output `ledger` and, read back at the next up, the record the
// overlap guard and the due dates are computed from. It never holds a value.

import { z } from "zod";
import { SecretView } from "./stages";
import { dueDate } from "./time";
import { KINDS, Ledger, LedgerEntry, LedgerKey, STAGES, SecretSpec } from "./types";

/** The new ledger row for a secret, carrying over times that did not change. */
export function ledgerEntry(s: SecretSpec, view: SecretView, prev: LedgerEntry | undefined, now: Date): LedgerEntry {
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
    };
    if (s.stage === "compromised" && s.incident) entry.incident = s.incident;
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

/** The key the presenters use, among the live ones (undefined when the row names none of them). */
export function presenterKey(e: LedgerEntry): LedgerKey | undefined {
    return e.keys.find((k) => k.keyId === e.presenterKeyId);
}

export function isOverdue(entry: LedgerEntry, now: Date): boolean {
    return Date.parse(entry.dueAt) <= now.getTime();
}

const entrySchema = z.object({
    kind: z.enum(KINDS),
    generation: z.number().int().min(1),
    stage: z.enum(STAGES),
    stageAppliedAt: z.string(),
    presenterKeyId: z.string(),
    verifierKeyIds: z.array(z.string()),
    keys: z.array(z.object({ generation: z.number().int(), keyId: z.string(), createdAt: z.string() })),
    dueAt: z.string(),
    incident: z.string().optional(),
    verified: z.object({ generation: z.number().int(), at: z.string() }).optional(),
    pendingRevocations: z.array(z.object({ generation: z.number().int(), keyId: z.string() })).optional(),
});

/**
 * Reads a ledger from the last stack outputs. Rows that do not parse (an
 * older format, a hand edit) are dropped and reported, so the up treats
 * those secrets as first seen rather than trusting a bad record.
 */
export function readLedger(raw: unknown): { ledger: Ledger; dropped: string[] } {
    const ledger: Ledger = {};
    const dropped: string[] = [];
    if (raw === undefined || raw === null || typeof raw !== "object") return { ledger, dropped };
    for (const [name, row] of Object.entries(raw as Record<string, unknown>)) {
        const parsed = entrySchema.safeParse(row);
        if (parsed.success) ledger[name] = parsed.data as LedgerEntry;
        else dropped.push(name);
    }
    return { ledger, dropped };
}
