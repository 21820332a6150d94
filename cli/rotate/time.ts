// Times as the rotate command shows them: ISO strings in JSON, short
// durations ("3d 4h", "5h 12m") in text. Pure; `now` always comes in.

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

/** "in 3d 4h" for a future time, "3d 4h ago" for a past one, "now" within a minute. */
export function relative(at: Date, now: Date): string {
    const ms = at.getTime() - now.getTime();
    if (Math.abs(ms) < 60_000) return "now";
    return ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(ms)} ago`;
}

/** Whole days from `from` to `to`, rounded down (negative when `to` is earlier). */
export function wholeDays(from: Date, to: Date): number {
    return Math.floor((to.getTime() - from.getTime()) / DAY_MS);
}

/** Parses an ISO time given on the command line; undefined when it is not one. */
export function parseInstant(text: string): Date | undefined {
    if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : new Date(t);
}
