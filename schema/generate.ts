// `npm run generate`: writes, from the config schemas (model/schema.ts),
//   schema/stack.schema.json     a JSON Schema of Pulumi.<stack>.yaml, so an
//                                editor validates the stack file as it is typed
//                                (the files name it in a yaml-language-server
//                                comment on their first line);
//   docs/config-reference.md     every key, its type, default and meaning.
// test/generated.test.ts fails when either is stale.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
    CONFIG_KEYS,
    CONFIG_SECTIONS,
    PROJECT,
    RESERVED_NAMES,
    apiKeySecretSchema,
    backendSchema,
    consumerSchema,
    fleetSchema,
    hmacSecretSchema,
    passwordSecretSchema,
    serviceSchema,
    verificationSchema,
} from "../model";

type Json = Record<string, unknown>;

const ROOT = join(__dirname, "..");
export const SCHEMA_FILE = join(ROOT, "schema", "stack.schema.json");
export const REFERENCE_FILE = join(ROOT, "docs", "config-reference.md");

function jsonSchemaOf(schema: z.ZodType): Json {
    const node = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
    delete node.$schema;
    return node;
}

/** A stack file may hold any config value encrypted: `{ secure: "v1:..." }`. */
const SECURE = { type: "object", properties: { secure: { type: "string" } }, required: ["secure"], additionalProperties: false };

export function stackFileSchema(): Json {
    const sections: Json = {};
    for (const key of CONFIG_KEYS) {
        sections[`${PROJECT}:${key}`] =
            key === "exchangeKeys"
                ? {
                      description: CONFIG_SECTIONS.exchangeKeys.description,
                      type: "object",
                      additionalProperties: {
                          type: "object",
                          propertyNames: { pattern: "^g\\d+$" },
                          additionalProperties: {
                              type: "object",
                              properties: { apiKey: SECURE, apiSecret: SECURE },
                              additionalProperties: false,
                          },
                      },
                  }
                : jsonSchemaOf(CONFIG_SECTIONS[key]);
    }
    return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        $id: "https://titan-secrets/schema/stack.schema.json",
        title: "Pulumi.<stack>.yaml of titan-secrets",
        description: "Generated from model/schema.ts by npm run generate; do not edit.",
        type: "object",
        properties: {
            config: {
                type: "object",
                properties: sections,
                // Other namespaces (pulumi:, kubernetes:, ...) are theirs; an unknown titan-secrets: key is an error.
                propertyNames: { anyOf: [{ enum: CONFIG_KEYS.map((k) => `${PROJECT}:${k}`) }, { not: { pattern: `^${PROJECT}:` } }] },
            },
            encryptionsalt: { type: "string" },
            secretsprovider: { type: "string" },
            encryptedkey: { type: "string" },
        },
    };
}

interface Row {
    key: string;
    type: string;
    byDefault: string;
    meaning: string;
}

function typeOf(node: Json): string {
    if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
    if (Array.isArray(node.enum)) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
    const t = node.type;
    if (t === "integer" || t === "number") {
        const max = node.maximum !== undefined && Number(node.maximum) < Number.MAX_SAFE_INTEGER ? `<= ${node.maximum}` : "";
        const range = [node.minimum !== undefined && Number(node.minimum) > Number.MIN_SAFE_INTEGER ? `>= ${node.minimum}` : "", max]
            .filter(Boolean)
            .join(", ");
        return `${t === "integer" ? "integer" : "number"}${range ? ` (${range})` : ""}`;
    }
    if (t === "string") return node.pattern ? `string matching \`${String(node.pattern).replace(/\|/g, "\\|")}\`` : "string";
    if (t === "array") return `list of ${typeOf((node.items as Json) ?? {})}`;
    if (t === "object")
        return node.additionalProperties && typeof node.additionalProperties === "object"
            ? `map of ${typeOf(node.additionalProperties as Json)}`
            : "object";
    if (t === "boolean") return "boolean";
    return "see below";
}

function rowsOf(node: Json, skip: string[] = []): Row[] {
    const props = (node.properties ?? {}) as Record<string, Json>;
    const required = new Set((node.required as string[] | undefined) ?? []);
    return Object.entries(props)
        .filter(([k]) => !skip.includes(k))
        .map(([key, p]) => ({
            key: `\`${key}\``,
            type: typeOf(p),
            byDefault:
                p.default !== undefined
                    ? `\`${JSON.stringify(p.default)}\``
                    : p.computedDefault !== undefined
                      ? String(p.computedDefault)
                      : required.has(key)
                        ? "required"
                        : "none",
            meaning: String(p.description ?? "").replace(/\|/g, "\\|"),
        }));
}

function table(rows: Row[]): string {
    return [
        "| key | type | default | meaning |",
        "|---|---|---|---|",
        ...rows.map((r) => `| ${r.key} | ${r.type} | ${r.byDefault} | ${r.meaning} |`),
    ].join("\n");
}

export function configReference(): string {
    const out: string[] = [
        "# Config reference",
        "",
        "Generated from `model/schema.ts` by `npm run generate`; do not edit. Every key is",
        `under the project's namespace, \`${PROJECT}:\`; a key there that is not listed here`,
        "is refused. Bad values fail the preview before any resource changes, each",
        "naming the key, what was found and what is allowed.",
        "",
        `No name in the config (a map's key, a listed name) is ${RESERVED_NAMES.map((n) => `\`${n}\``).join(" or ")} (refused), and text`,
        "values hold no control characters (line breaks only in `kubeconfig`).",
        "",
    ];
    const section = (title: string, node: Json, intro?: string) => {
        out.push(`## ${title}`, "");
        if (intro) out.push(intro, "");
        out.push(table(rowsOf(node)), "");
    };
    section("`kubernetes`", jsonSchemaOf(CONFIG_SECTIONS.kubernetes));
    section("`services` (map of workload name to object)", jsonSchemaOf(serviceSchema), String(CONFIG_SECTIONS.services.description ?? ""));

    out.push("## `secrets` (map of secret name to object)", "", String(CONFIG_SECTIONS.secrets.description ?? ""), "");
    out.push("Every kind has these keys:", "");
    const hmac = jsonSchemaOf(hmacSecretSchema);
    const nodes = [hmacSecretSchema, passwordSecretSchema, apiKeySecretSchema].map(
        (s) => (jsonSchemaOf(s).properties ?? {}) as Record<string, Json>,
    );
    // Keys every kind has with the same type and default (maxAgeDays differs by kind).
    const common = Object.keys(nodes[0]).filter(
        (k) => k !== "kind" && nodes.every((n) => JSON.stringify(n[k]) === JSON.stringify(nodes[0][k])),
    );
    out.push(table(rowsOf({ ...hmac, properties: Object.fromEntries(common.map((k) => [k, (hmac.properties as Json)[k]])) })), "");
    for (const [kind, schema] of [
        ["hmac", hmacSecretSchema],
        ["password", passwordSecretSchema],
        ["apiKey", apiKeySecretSchema],
    ] as const) {
        const node = jsonSchemaOf(schema);
        out.push(`### \`kind: ${kind}\``, "", String(((node.properties as Record<string, Json>).kind.description as string) ?? ""), "");
        out.push(table(rowsOf(node, [...common, "kind"])), "");
    }
    out.push("### `backend` (kind `password`), by `type`", "");
    for (const option of backendSchema.options) {
        const node = jsonSchemaOf(option);
        const type = (node.properties as Record<string, Json>).type;
        out.push(`#### \`type: ${JSON.stringify(type.const)}\``, "", String(type.description ?? ""), "");
        out.push(table(rowsOf(node, ["type"])), "");
    }
    out.push("### `verification` (kind `apiKey`)", "", table(rowsOf(jsonSchemaOf(verificationSchema))), "");
    section("`removeSecrets`", { properties: { removeSecrets: jsonSchemaOf(CONFIG_SECTIONS.removeSecrets) } });
    section("`exchangeKeys` (secure)", {
        properties: { exchangeKeys: { type: "object", description: CONFIG_SECTIONS.exchangeKeys.description } },
    });
    const stores = jsonSchemaOf(CONFIG_SECTIONS.stores) as { properties: Record<string, Json> };
    out.push("## `stores`", "");
    for (const [name, node] of Object.entries(stores.properties))
        out.push(`### \`${name}\``, "", String(node.description ?? ""), "", table(rowsOf(node)), "");
    section("`monitoring`", jsonSchemaOf(CONFIG_SECTIONS.monitoring));
    section("`aws`", jsonSchemaOf(CONFIG_SECTIONS.aws));
    out.push("## `fleet`", "", String(CONFIG_SECTIONS.fleet.description ?? ""), "");
    for (const option of fleetSchema.options) {
        const node = jsonSchemaOf(option);
        const role = (node.properties as Record<string, Json>).role;
        out.push(`### \`role: ${JSON.stringify(role.const)}\``, "", String(role.description ?? ""), "");
        const rows = rowsOf(node, ["role"]);
        if (rows.length > 0) out.push(table(rows), "");
    }
    section(
        "`consumers` (map of secret name to object; fleet.role `workloads`)",
        jsonSchemaOf(consumerSchema),
        String(CONFIG_SECTIONS.consumers.description ?? ""),
    );
    return out.join("\n").replace(/\n{3,}/g, "\n\n");
}

export function generated(): Record<string, string> {
    return { [SCHEMA_FILE]: JSON.stringify(stackFileSchema(), null, 2) + "\n", [REFERENCE_FILE]: configReference() };
}

if (require.main === module) {
    for (const [file, text] of Object.entries(generated())) {
        writeFileSync(file, text);
        process.stdout.write(`wrote ${file}\n`);
    }
}
