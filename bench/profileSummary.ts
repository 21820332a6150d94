// Summarises a .cpuprofile (from bench/profile.ts or `node --cpu-prof`):
// self time by area (the program, the Pulumi SDK, protobuf, Node, GC) and
// the functions with the most self time, each with its share of the run.
//
//   npx tsx bench/profileSummary.ts FILE.cpuprofile [top=25]

import { readFileSync } from "node:fs";

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}
interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

/** Where a function lives, in the terms of this project. */
export function areaOf(frame: ProfileNode["callFrame"]): string {
    const { url, functionName } = frame;
    if (!url) return functionName.startsWith("(") ? functionName : "V8 builtins";
    if (url.startsWith("node:")) return "Node.js";
    const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)(\/[^/]+)?/.exec(url);
    if (pkg) return pkg[1] === "@pulumi/pulumi" ? `@pulumi/pulumi${pkg[2] ?? ""}` : pkg[1];
    for (const area of ["model", "components", "bench", "test"]) if (url.includes(`/${area}/`)) return area;
    return url;
}

export function summarise(p: Profile, top = 25): string {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    let total = 0;
    p.samples.forEach((id, i) => {
        const dt = p.timeDeltas[i] ?? 0;
        self.set(id, (self.get(id) ?? 0) + dt);
        total += dt;
    });
    const group = (key: (n: ProfileNode) => string) => {
        const m = new Map<string, number>();
        for (const [id, t] of self) {
            const k = key(byId.get(id)!);
            m.set(k, (m.get(k) ?? 0) + t);
        }
        return [...m].sort((a, b) => b[1] - a[1]);
    };
    const where = (n: ProfileNode) => {
        const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "");
        return `${n.callFrame.functionName || "(anonymous)"} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
    };
    const line = ([k, t]: [string, number]) =>
        `${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`;
    return [
        `${(total / 1000).toFixed(0)} ms sampled`,
        "self time by area:",
        ...group((n) => areaOf(n.callFrame))
            .slice(0, 15)
            .map(line),
        `top ${top} functions by self time:`,
        ...group(where).slice(0, top).map(line),
    ].join("\n");
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) {
        process.stderr.write("usage: npx tsx bench/profileSummary.ts FILE.cpuprofile [top]\n");
        process.exit(2);
    }
    process.stdout.write(`${file}: ${summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(process.argv[3] ?? 25))}\n`);
}
