// Times as the rotate command shows them: ISO strings in JSON, short
// durations ("3d 4h", "5h 12m") in text. Pure; `now` always comes in.

import { formatDuration } from "../../model";

/** "in 3d 4h" for a future time, "3d 4h ago" for a past one, "now" within a minute. */
export function relative(at: Date, now: Date): string {
    const ms = at.getTime() - now.getTime();
    if (Math.abs(ms) < 60_000) return "now";
    return ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(ms)} ago`;
}
