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
//     `config set --secret`;
//   - keyStackSource: a fleet's workload stack (`titan-secrets:fleet` role
//     `workloads`) has no keys of its own: they are its key stack's
//     (`fleet.keyRing`), read from that stack's export on the same backend.
//     A key stack that holds none is an error, never zero values.
// No error message here quotes the JSON that failed to parse: Node's parse
// errors include a piece of the input, which may be a secret.

import { Backend } from "../backend";
import { duplicateJsonNames } from "../common";
import { readFileSync } from "node:fs";
import { PROJECT, configKey } from "../../model/errors";
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

/** A key stack's output of its clusters' keys (components/fleet.ts keyRingOutputs). */
export const KEY_MATERIAL = "keyMaterial";

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
    // Every export has a deployment; a stack that was never deployed has no resources in it.
    if (!isObject(doc) || !isObject(doc.deployment))
        throw new SourceError("the stack export has no deployment: it is not the output of pulumi stack export");
    const resources = doc.deployment.resources;
    if (resources === undefined) return []; // a stack that was never deployed
    if (!Array.isArray(resources)) throw new SourceError("the stack export has no resource list (deployment.resources)");
    const out: SecretValue[] = [];
    for (const r of resources) {
        if (!isObject(r) || typeof r.urn !== "string") continue;
        // A key stack's keys for its clusters: { "<secret>": { "g<N>": key } }, named as their resources are.
        if (r.type === "pulumi:pulumi:Stack" && isObject(r.outputs) && KEY_MATERIAL in r.outputs) {
            for (const s of strings(revealed(r.outputs[KEY_MATERIAL], `the stack output ${KEY_MATERIAL}`))) {
                const generation = /^\.([^.[\]]+)\.(g\d+)$/.exec(s.path);
                out.push({ name: generation ? `${generation[1]}-${generation[2]}` : KEY_MATERIAL + s.path, value: s.value });
            }
        }
        for (const { type, output } of RESOURCE_SECRETS) {
            if (r.type !== type) continue;
            const name = nameFromUrn(r.urn);
            // A secret resource whose value is not there is a value not searched for: never left out.
            const found = isObject(r.outputs) && output in r.outputs ? strings(revealed(r.outputs[output], `${name}.${output}`)) : [];
            if (found.length === 0)
                throw new SourceError(`the stack export's ${name} has no text in its output ${output}: its value cannot be searched for`);
            for (const s of found) out.push({ name: name + s.path, value: s.value });
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
            if (text.startsWith("\ufeff")) text = text.slice(1);
            const doc = parseJson(text, `--values-from ${path}`);
            if (!isObject(doc)) throw new SourceError(`--values-from ${path} must hold a JSON object { "name": "value", ... }`);
            // JSON.parse keeps the last of two equal names without a word: the first value would not be searched for.
            const twice = duplicateNames(text);
            if (twice.length > 0) {
                throw new SourceError(
                    `--values-from ${path}: found the name${twice.length > 1 ? "s" : ""} ${twice.map((n) => JSON.stringify(n)).join(", ")} more than once; allowed: each name once (rename one, e.g. with its generation: titan-hmac-g2)`,
                );
            }
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

/** The top-level names given more than once in a JSON object's text (cli/common.ts duplicateJsonNames). */
export function duplicateNames(text: string): string[] {
    return duplicateJsonNames(text)
        .filter((d) => d.path.length === 0)
        .map((d) => d.name);
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

/** `pulumi config --show-secrets --json` of a stack, read once however many sources ask. */
function configReader(backend: Backend, stack: string): () => unknown {
    let config: { doc: unknown } | undefined;
    const args = ["config", "--stack", stack, "--show-secrets", "--json"];
    return () => (config ??= { doc: pulumiJson(backend, args, `the config of stack ${stack}`) }).doc;
}

export function secureConfigSource(backend: Backend, stack: string, configOf = configReader(backend, stack)): ValueSource {
    return { description: `secret config of stack ${stack}`, load: () => valuesFromConfig(configOf()) };
}

/** The key stack a workload stack's config names (`titan-secrets:fleet`, role workloads), or undefined. */
export function keyStackOf(configDoc: unknown, stack: string): string | undefined {
    const entry = isObject(configDoc) ? configDoc[`${PROJECT}:fleet`] : undefined;
    if (entry === undefined) return undefined;
    let fleet: unknown = isObject(entry) ? ("objectValue" in entry ? entry.objectValue : entry.value) : undefined;
    if (typeof fleet === "string") fleet = parseJson(fleet, `the config ${PROJECT}:fleet of stack ${stack}`);
    if (!isObject(fleet))
        throw new SourceError(`config ${configKey(["fleet"])} of stack ${stack} is not an object: cannot tell whose keys to search for`);
    if (fleet.role !== "workloads") return undefined;
    if (typeof fleet.keyRing !== "string" || !/^[A-Za-z0-9._/-]+$/.test(fleet.keyRing)) {
        throw new SourceError(
            `config ${configKey(["fleet", "keyRing"])} of stack ${stack}: found ${JSON.stringify(fleet.keyRing)}; allowed: the name of its key stack, whose keys are the ones to search for`,
        );
    }
    return fleet.keyRing;
}

/**
 * A workload stack's keys: its key stack's, read from that stack's export
 * on the same backend (a StackReference reads it there). Nothing for a stack
 * that is no workload stack. `configOf` reads the workload stack's config.
 */
export function keyStackSource(backend: Backend, stack: string, configOf: () => unknown): ValueSource {
    let keyStack: string | undefined;
    return {
        get description() {
            return keyStack === undefined ? "" : `keys of key stack ${keyStack} (fleet.keyRing of workload stack ${stack})`;
        },
        load() {
            keyStack = keyStackOf(configOf(), stack);
            if (keyStack === undefined) return [];
            const args = ["stack", "export", "--stack", keyStack, "--show-secrets"];
            const values = valuesFromExport(
                pulumiJson(backend, args, `the state of key stack ${keyStack} (the keys of workload stack ${stack})`),
            );
            if (values.length === 0) {
                throw new SourceError(
                    `stack ${stack} is a workload stack (${configKey(["fleet", "role"])} workloads): its keys are those of its key stack ${keyStack}, whose state holds none (no ${KEY_MATERIAL} output, no key resource; has it run its first pulumi up?). Nothing to search for: scan with --stack ${keyStack} once it has keys, or pass the values with --values-from FILE`,
                );
            }
            return values;
        },
    };
}

/** The sources of `--stack S`: its resources, its secret config, and, for a workload stack, its key stack's keys. */
export function stackSources(backend: Backend, stack: string): ValueSource[] {
    // One config read for the secret values and the fleet role.
    const configOf = configReader(backend, stack);
    return [stackExportSource(backend, stack), secureConfigSource(backend, stack, configOf), keyStackSource(backend, stack, configOf)];
}
