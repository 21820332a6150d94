// The consumer side of file delivery: every `<NAME>_FILE` variable the pod
// gets (DB_PASSWORD_FILE, REDIS_USERNAME_FILE, BYBIT_API_KEY_FILE, ...)
// names a file under /run/secrets; the service reads them once, at
// start-up. Errors name the variable and the path, never the content.

import { readFileSync, statSync } from "node:fs";

export class SecretFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SecretFileError";
    }
}

/**
 * Reads every `<NAME>_FILE` variable of `env` into `{ NAME: content }`
 * (one trailing newline removed). A file that cannot be read, is empty, or
 * is readable by any user (mode o+r: the program never delivers one) stops
 * the service: it must not start half-configured.
 */
export function loadSecretsFromFiles(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [variable, path] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
        if (!variable.endsWith("_FILE") || path === undefined || path === "") continue;
        const name = variable.slice(0, -"_FILE".length);
        let content: string;
        try {
            if ((statSync(path).mode & 0o004) !== 0) {
                throw new SecretFileError(`${variable}: ${path} is readable by every user; secret files are delivered at 0400 or 0440`);
            }
            content = readFileSync(path, "utf8");
        } catch (e) {
            if (e instanceof SecretFileError) throw e;
            throw new SecretFileError(`${variable}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
        }
        content = content.replace(/\r?\n$/, "");
        if (content.length === 0) throw new SecretFileError(`${variable}: ${path} is empty`);
        out[name] = content;
    }
    return out;
}
