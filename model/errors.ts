// Config errors are sentences a person can act on: which key, what was found,
// what is allowed, and (where there is one) the command that fixes it.

export const PROJECT = "titan-secrets";

export interface ConfigIssue {
    /** Full config key, e.g. `titan-secrets:secrets.hmac-main.generation`. */
    key: string;
    /** What the config holds, already rendered for a person (never a secret value). */
    found: string;
    /** What the key accepts. */
    allowed: string;
    /** A command or edit that resolves it. */
    fix?: string;
}

/** Renders one issue as the sentence users see. */
export function describeIssue(issue: ConfigIssue): string {
    const fix = issue.fix ? ` Fix: ${issue.fix}` : "";
    return `${issue.key}: found ${issue.found}; allowed: ${issue.allowed}.${fix}`;
}

/** Every problem found in the stack config, reported together. */
export class ConfigError extends Error {
    constructor(readonly issues: ConfigIssue[]) {
        super(
            issues.length === 1
                ? `Invalid stack config. ${describeIssue(issues[0])}`
                : `Invalid stack config (${issues.length} problems):\n` + issues.map((i) => `  - ${describeIssue(i)}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * `titan-secrets:<path>` for a path like ["secrets", "hmac-main", "stage"].
 * A name with other characters is quoted as JSON, so that a line break in a
 * map key cannot start a line of its own in the message.
 */
export function configKey(path: readonly (string | number)[]): string {
    const [head, ...rest] = path;
    let key = `${PROJECT}:${String(head)}`;
    for (const seg of rest) {
        key += typeof seg === "number" ? `[${seg}]` : /^[A-Za-z0-9_-]+$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
    }
    return key;
}

/** The `--path` argument of `pulumi config set` for the same key. */
export function configPath(path: readonly (string | number)[]): string {
    return configKey(path).slice(PROJECT.length + 1);
}

/** Renders a found value briefly; long or structured values are summarised. */
export function show(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === null) return "null";
    if (typeof value === "string") return value.length > 60 ? `a ${value.length}-character string` : JSON.stringify(value);
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list of ${value.length}`;
    return "an object";
}

/** The closest candidate by edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}
