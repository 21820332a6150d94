// The consumer side of file delivery: the program gives a presenter's pod a
// `<NAME>_FILE` variable per delivered file (DB_PASSWORD_FILE,
// REDIS_USERNAME_FILE, BYBIT_API_KEY_FILE, ...: model/delivery.ts) naming a
// file under /run/secrets; the service reads them once, at start-up. Only
// the contract's variables are read: a pod has others of the same form
// (SSL_CERT_FILE, KUBECONFIG_FILE, ...) that are none of ours and are left
// alone. Errors name the variable and the path, never the content.

import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";

export class SecretFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SecretFileError";
    }
}

/**
 * The names (without `_FILE`) of the contract's files (docs/consumer-contract.md):
 * a password's `<FILE>_PASSWORD` and `<FILE>_USERNAME` (`<FILE>`: its
 * `backend.file` in capitals), an exchange key's `<EXCHANGE>_API_KEY` and
 * `<EXCHANGE>_API_SECRET` (`-` as `_`). Both stems are 1 to 31 characters.
 */
export const SECRET_FILE_NAME = /^[A-Z][A-Z0-9_]{0,30}_(PASSWORD|USERNAME|API_KEY|API_SECRET)$/;

export interface LoadSecretsOptions {
    /**
     * Exactly the files this service needs, by name without `_FILE` (e.g.
     * `["DB_PASSWORD", "DB_USERNAME"]`): each must be set, and nothing else
     * is read. Without it, every variable of the contract's form that is set
     * is read.
     */
    names?: readonly string[];
}

/**
 * Reads the contract's `<NAME>_FILE` variables of `env` into
 * `{ NAME: content }` (one trailing newline removed). A file that cannot be
 * read, is empty, or is readable by any user (mode o+r: the program never
 * delivers one), a variable set to nothing, and a name in `names` that is
 * missing or not of the contract stop the service: it must not start
 * half-configured.
 */
export function loadSecretsFromFiles(env: NodeJS.ProcessEnv = process.env, options: LoadSecretsOptions = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of options.names ?? []) {
        if (!SECRET_FILE_NAME.test(name)) {
            throw new SecretFileError(
                `${JSON.stringify(name)} is not a file of the consumer contract: <FILE>_PASSWORD, <FILE>_USERNAME, <EXCHANGE>_API_KEY or <EXCHANGE>_API_SECRET`,
            );
        }
        if (env[`${name}_FILE`] === undefined) throw new SecretFileError(`${name}_FILE is not set`);
    }
    const names =
        options.names ??
        Object.keys(env)
            .filter((v) => v.endsWith("_FILE") && SECRET_FILE_NAME.test(v.slice(0, -"_FILE".length)) && env[v] !== undefined)
            .map((v) => v.slice(0, -"_FILE".length));
    for (const name of [...new Set(names)].sort()) {
        const variable = `${name}_FILE`;
        const path = env[variable]!;
        if (path === "") throw new SecretFileError(`${variable} is set to nothing; the program sets it to a file under /run/secrets`);
        let content: string;
        try {
            // Opened without blocking and checked on the open file: a FIFO or a
            // device (a tty) would block the read forever, and what is read is
            // what was checked (no swap between a stat and the read).
            const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
            try {
                const st = fstatSync(fd);
                if (!st.isFile()) {
                    throw new SecretFileError(`${variable}: ${path} is not a regular file; the program delivers each secret as a file`);
                }
                if ((st.mode & 0o004) !== 0) {
                    throw new SecretFileError(`${variable}: ${path} is readable by every user; secret files are delivered at 0400 or 0440`);
                }
                // Writable by every user: any process of the pod could put its own credential there.
                if ((st.mode & 0o002) !== 0) {
                    throw new SecretFileError(`${variable}: ${path} is writable by every user; secret files are delivered at 0400 or 0440`);
                }
                content = readFileSync(fd, "utf8");
            } finally {
                closeSync(fd);
            }
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
