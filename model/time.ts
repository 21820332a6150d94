// Times and durations, one copy for the program, the tools and the policy
// pack: how long an overlap has lasted, when a key is due.

import { z } from "zod";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A short, rounded duration: "3d 4h", "5h 12m", "12m". Negative values are shown as their size. */
export function formatDuration(ms: number): string {
    const minutes = Math.round(Math.abs(ms) / 60_000);
    const d = Math.floor(minutes / 1440);
    const h = Math.floor((minutes % 1440) / 60);
    const m = minutes % 60;
    if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
    if (h > 0) return `${h}h ${m}m`;
    return `${m}m`;
}

/** When a key created at `createdAt` (ISO) reaches `maxAgeDays`. */
export function dueDate(createdAt: string, maxAgeDays: number): Date {
    return new Date(Date.parse(createdAt) + maxAgeDays * DAY_MS);
}

/** An ISO date-time with its offset, checked against the calendar (2026-02-31 is not a date). The ledger's times are these. */
export const isoTime = z.iso.datetime({ offset: true });

/**
 * An instant typed by a person (`rotate --now`): an ISO date-time with an
 * offset, or a date alone (midnight UTC). Undefined when it is not one, or
 * not a day of the calendar: `Date.parse("2026-02-31")` would quietly give
 * 3 March.
 */
export function parseInstant(text: string): Date | undefined {
    if (!isoTime.safeParse(text).success && !z.iso.date().safeParse(text).success) return undefined;
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : new Date(t);
}
