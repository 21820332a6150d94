// The drill's timeline as an SVG: the stages along the top, one lane per
// pod (a bar from start to stop, verifiers blue, presenters green, labelled
// with what they hold), and the refused requests per second as red bars at
// the bottom. Plain SVG written by hand: no renderer, no fonts to fetch.

import type { TimelineEvent } from "./player";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function timelineSvg(events: TimelineEvent[], failuresPerSecond: number[], durationMs: number): string {
    const width = 1000;
    const left = 170;
    const x = (t: number) => left + ((width - left - 10) * t) / Math.max(durationMs, 1);
    const lanes: { app: string; role: string; holds: string; from: number; to: number }[] = [];
    const open = new Map<string, number[]>();
    for (const e of events) {
        if (e.kind === "pod-start") {
            lanes.push({ app: e.app!, role: e.role!, holds: e.holds ?? "", from: e.t, to: durationMs });
            open.set(e.app!, [...(open.get(e.app!) ?? []), lanes.length - 1]);
        }
        if (e.kind === "pod-stop") {
            const idx = open.get(e.app!)?.shift();
            if (idx !== undefined) lanes[idx].to = e.t;
        }
    }
    const laneH = 14;
    const top = 40;
    const chartTop = top + lanes.length * laneH + 20;
    const maxFail = Math.max(1, ...failuresPerSecond);
    const height = chartTop + 80;
    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
        `<rect width="100%" height="100%" fill="white"/>`,
    ];
    const phases = events.filter((e) => e.kind === "phase");
    phases.forEach((p, i) => {
        const end = phases[i + 1]?.t ?? durationMs;
        parts.push(
            `<rect x="${x(p.t)}" y="10" width="${Math.max(1, x(end) - x(p.t))}" height="${height - 20}" fill="${i % 2 ? "#f4f4f4" : "#ffffff"}" stroke="#ccc"/>`,
        );
        parts.push(`<text x="${x(p.t) + 3}" y="24" font-weight="bold">${esc(p.phase ?? "")}</text>`);
    });
    lanes.forEach((l, i) => {
        const y = top + i * laneH;
        parts.push(`<text x="4" y="${y + 10}">${esc(`${l.app} (${l.role})`)}</text>`);
        parts.push(
            `<rect x="${x(l.from)}" y="${y + 2}" width="${Math.max(1, x(l.to) - x(l.from))}" height="${laneH - 4}" fill="${l.role === "verifier" ? "#4a78c2" : "#4caf50"}"/>`,
        );
        parts.push(`<text x="${x(l.from) + 2}" y="${y + 10}" fill="white">${esc(l.holds)}</text>`);
    });
    parts.push(`<text x="4" y="${chartTop + 12}">refused per second (max ${maxFail})</text>`);
    failuresPerSecond.forEach((n, s) => {
        if (n === 0) return;
        const h = (50 * n) / maxFail;
        parts.push(
            `<rect x="${x(s * 1000)}" y="${chartTop + 70 - h}" width="${Math.max(2, x(1000) - x(0) - 1)}" height="${h}" fill="#d32f2f"/>`,
        );
    });
    parts.push(`<line x1="${left}" y1="${chartTop + 70}" x2="${width - 10}" y2="${chartTop + 70}" stroke="#333"/>`, "</svg>");
    return parts.join("\n") + "\n";
}
