// Times as the rotate command shows them: ISO strings in JSON, short
// durations ("3d 4h", "5h 12m") in text. Pure; `now` always comes in.

import { formatDuration } from "../../model";

/** "in 3d 4h" for a future time, "3d 4h ago" for a past one, "now" within a minute. */
export function relative(at: Date, now: Date): string {
    const ms = at.getTime() - now.getTime();
    if (Math.abs(ms) < 60_000) return "now";
    return ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(ms)} ago`;
}

/** Parses an ISO time given on the command line; undefined when it is not one. */
export function parseInstant(text: string): Date | undefined {
    if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : new Date(t);
}
