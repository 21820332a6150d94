// The two annotations the program writes on each Deployment, and the only
// code that writes or reads them (the plan writes, the policy pack reads):
//   titan-secrets.io/consumes on the pod template: what a pod holds, per
//     secret, e.g. "titan-hmac=verifier:g2,g1;titan-redis-password=presenter:g1".
//     It changes exactly when what a pod holds changes, so it rolls the pods.
//   titan-secrets.io/stages on the Deployment itself: each consumed secret's
//     stage, e.g. "titan-hmac=overlap@g2". It rolls nothing.

import { Role, Stage, STAGES } from "./types";

export const ANNOTATION_CONSUMES = "titan-secrets.io/consumes";
export const ANNOTATION_STAGES = "titan-secrets.io/stages";

/** What a pod holds of one secret: its role and the generations, primary first. */
export interface Held {
    secret: string;
    role: Role;
    generations: number[];
}

/** One secret's stage, as the Deployment annotation records it. */
export interface StageMark {
    secret: string;
    stage: Stage;
    generation: number;
}

export function formatConsumes(held: readonly Held[]): string {
    return held.map((h) => `${h.secret}=${h.role}:${h.generations.map((g) => `g${g}`).join(",")}`).join(";");
}

export function formatStages(marks: readonly StageMark[]): string {
    return marks.map((m) => `${m.secret}=${m.stage}@g${m.generation}`).join(";");
}

const CONSUMES_PART = /^([a-z0-9-]+)=(verifier|presenter):(g\d+(?:,g\d+)*)$/;
const STAGES_PART = new RegExp(`^([a-z0-9-]+)=(${STAGES.join("|")})@g(\\d+)$`);

/**
 * The annotation's entries. Undefined when the text is not one the program
 * writes (a reader must not take a hand-edited or foreign value for "holds
 * nothing"); an absent annotation (undefined or "") holds nothing.
 */
export function parseConsumes(text: unknown): Held[] | undefined {
    if (text === undefined || text === "") return [];
    if (typeof text !== "string") return undefined;
    const out: Held[] = [];
    for (const part of text.split(";")) {
        const m = CONSUMES_PART.exec(part);
        if (!m) return undefined;
        out.push({ secret: m[1], role: m[2] as Role, generations: m[3].split(",").map((g) => Number(g.slice(1))) });
    }
    return out;
}

export function parseStages(text: unknown): StageMark[] | undefined {
    if (text === undefined || text === "") return [];
    if (typeof text !== "string") return undefined;
    const out: StageMark[] = [];
    for (const part of text.split(";")) {
        const m = STAGES_PART.exec(part);
        if (!m) return undefined;
        out.push({ secret: m[1], stage: m[2] as Stage, generation: Number(m[3]) });
    }
    return out;
}
