// The Io the rotate tests hand to cli/rotate's main: it records what the
// command prints, writes files for real, and refuses to run pulumi unless a
// test says how pulumi answers.

import { writeFileSync } from "node:fs";
import type { Io } from "../../cli/rotate/cli";

export interface RecordingIoOptions {
    /** The repository the command reads stack files from. */
    repo: string;
    /** The clock. */
    now: () => Date;
    /** How `pulumi` answers; by default any call fails the test (`why` says why none is expected). */
    run?: Io["run"];
    /** Why no pulumi call is expected, for the error when one is made anyway. */
    why?: string;
    env?: Io["env"];
    hostname?: string;
}

export function recordingIo(o: RecordingIoOptions): { io: Io; out: () => string; err: () => string } {
    let out = "";
    let err = "";
    const io: Io = {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        repo: o.repo,
        run:
            o.run ??
            (() => {
                throw new Error(`rotate must not run pulumi here (${o.why ?? "no backend is expected"})`);
            }),
        writeFile: (p, t) => writeFileSync(p, t),
        now: o.now,
        hostname: o.hostname ?? "test",
        pulumiRunning: () => false,
        env: o.env ?? {},
    };
    return { io, out: () => out, err: () => err };
}
