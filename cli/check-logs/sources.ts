// Where the secret values come from. A ValueSource loads named values; the
// command searches the logs for all of them. Sources:
//   - valuesFileSource: `--values-from FILE`, a JSON object { "name": "value" }
//     (tests, CI);
//   - stackExportSource: the stack's state through `pulumi stack export
//     --show-secrets` on the stack's backend (cli/backend.ts: the operator's
//     own access), taking the outputs
//     listed in RESOURCE_SECRETS (today RandomPassword.result: HMAC keys and
//     service passwords; add a row for any other resource output, e.g. an
//     exchange API key resource);
//   - secureConfigSource: every stack config value marked secret (`pulumi
//     config --show-secrets --json`), e.g. exchange API keys set with
//     `config set --secret`.
// No error message here quotes the JSON that failed to parse: Node's parse
// errors include a piece of the input, which may be a secret.

import { Backend } from "../backend";
import { readFileSync } from "node:fs";
import { SecretValue } from "./matcher";

export interface ValueSource {
    /** For a person: where the values come from. */
    readonly description: string;
    /** The values; throws SourceError when they cannot be read. */
    load(): SecretValue[];
}

export class SourceError extends Error {}

/** The marker key of a secret in a `--show-secrets` export (Pulumi's "secret signature"). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Resource outputs that hold a secret value, by resource type. */
export const RESOURCE_SECRETS: ReadonlyArray<{ type: string; output: string }> = [
    { type: "random:index/randomPassword:RandomPassword", output: "result" },
];

function isObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseJson(text: string, what: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        throw new SourceError(`${what} is not valid JSON`);
    }
}

/** A `--show-secrets` export value: a secret object's plaintext, JSON-decoded; a plain value as is. */
export function revealed(value: unknown, what: string): unknown {
    if (isObject(value) && SECRET_SIG in value) {
        if (typeof value.plaintext !== "string") {
            throw new SourceError(
                `${what} is encrypted (no plaintext): export the stack with --show-secrets and the stack's passphrase or secrets provider`,
            );
        }
        return parseJson(value.plaintext, `the plaintext of ${what}`);
    }
    return value;
}

/** Every string inside a value (object and array members too), with a path suffix for the name. */
function strings(value: unknown, path = ""): Array<{ path: string; value: string }> {
    if (typeof value === "string") return [{ path, value }];
    if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
    if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
    return [];
}

/** The last `::` segment of a URN: the resource's name. */
export function nameFromUrn(urn: string): string {
    const i = urn.lastIndexOf("::");
    return i < 0 ? urn : urn.slice(i + 2);
}

/** The secret values in a `stack export --show-secrets` document. */
export function valuesFromExport(doc: unknown): SecretValue[] {
    const resources = isObject(doc) && isObject(doc.deployment) ? doc.deployment.resources : undefined;
    if (resources === undefined) return []; // a stack that was never deployed
    if (!Array.isArray(resources)) throw new SourceError("the stack export has no resource list (deployment.resources)");
    const out: SecretValue[] = [];
    for (const r of resources) {
        if (!isObject(r) || typeof r.urn !== "string") continue;
        for (const { type, output } of RESOURCE_SECRETS) {
            if (r.type !== type || !isObject(r.outputs) || !(output in r.outputs)) continue;
            const name = nameFromUrn(r.urn);
            for (const s of strings(revealed(r.outputs[output], `${name}.${output}`))) out.push({ name: name + s.path, value: s.value });
        }
    }
    return out;
}

/** The secret values in a `config --show-secrets --json` document (entries with "secret": true). */
export function valuesFromConfig(doc: unknown): SecretValue[] {
    if (!isObject(doc)) throw new SourceError("the stack config is not a JSON object");
    const out: SecretValue[] = [];
    for (const [key, entry] of Object.entries(doc)) {
        if (!isObject(entry) || entry.secret !== true) continue;
        if (!("value" in entry) && !("objectValue" in entry)) {
            throw new SourceError(
                `config ${key} is secret but has no value: run with --show-secrets and the stack's passphrase or secrets provider`,
            );
        }
        // A structured value (set with --path) carries its members in objectValue.
        const value = "objectValue" in entry ? entry.objectValue : entry.value;
        for (const s of strings(value)) out.push({ name: key + s.path, value: s.value });
    }
    return out;
}

export function valuesFileSource(path: string): ValueSource {
    return {
        description: `values from ${path}`,
        load() {
            let text: string;
            try {
                text = readFileSync(path, "utf8");
            } catch (e) {
                throw new SourceError(`--values-from: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
            }
            const doc = parseJson(text, `--values-from ${path}`);
            if (!isObject(doc)) throw new SourceError(`--values-from ${path} must hold a JSON object { "name": "value", ... }`);
            const out: SecretValue[] = [];
            for (const [name, value] of Object.entries(doc)) {
                if (typeof value !== "string")
                    throw new SourceError(`--values-from ${path}: the value of ${JSON.stringify(name)} is not a string`);
                out.push({ name, value });
            }
            return out;
        },
    };
}

function pulumiJson(backend: Backend, args: string[], what: string): unknown {
    const missing = backend.unavailable();
    if (missing)
        throw new SourceError(`cannot read ${what} from ${backend.description}: ${missing}; or pass the values with --values-from FILE.`);
    const r = backend.run(args);
    if (r.status !== 0) {
        const reason = r.stderr.trim().split("\n").filter(Boolean).pop() ?? `exit status ${r.status}`;
        throw new SourceError(
            `cannot read ${what}: ${backend.shown} ${args.join(" ")} failed: ${reason} (or pass the values with --values-from FILE)`,
        );
    }
    return parseJson(r.stdout, `the output of ${backend.shown} ${args.join(" ")}`);
}

export function stackExportSource(backend: Backend, stack: string): ValueSource {
    const args = ["stack", "export", "--stack", stack, "--show-secrets"];
    return {
        description: `resource secrets of stack ${stack} (${RESOURCE_SECRETS.map((r) => `${r.type.split(":").pop()}.${r.output}`).join(", ")})`,
        load: () => valuesFromExport(pulumiJson(backend, args, `the state of stack ${stack}`)),
    };
}

export function secureConfigSource(backend: Backend, stack: string): ValueSource {
    const args = ["config", "--stack", stack, "--show-secrets", "--json"];
    return {
        description: `secret config of stack ${stack}`,
        load: () => valuesFromConfig(pulumiJson(backend, args, `the config of stack ${stack}`)),
    };
}
