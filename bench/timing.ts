// Small timing helpers: medians, and a full GC between timed runs so one
// run's garbage is not collected on the next one's clock.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export function median(xs: readonly number[]): number {
    if (xs.length === 0) throw new Error("median of nothing");
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

let gcFn: (() => void) | undefined | null = null;

/**
 * A full garbage collection, when V8 lets us expose it at run time
 * (`npm run bench` runs tsx without --expose-gc); otherwise nothing.
 */
export function collectGarbage(): void {
    if (gcFn === null) {
        try {
            setFlagsFromString("--expose-gc");
            gcFn = runInNewContext("gc") as () => void;
        } catch {
            gcFn = undefined;
        }
    }
    gcFn?.();
}

/** Milliseconds, rounded for tables. */
export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
