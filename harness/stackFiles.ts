// Reads a committed Pulumi.<stack>.yaml into the program's raw config.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { RawConfig, rawConfigFrom } from "../model";

export const REPO = join(__dirname, "..");

export function stackConfig(stack: string): { raw: RawConfig; all: Record<string, unknown> } {
    const doc = parse(readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return { raw: rawConfigFrom(doc.config), all: doc.config };
}

/**
 * The exchange keys the team's Pulumi.prod.yaml holds (secure values, never
 * decrypted by the tests); the committed copy has none. Appended to a copy of
 * the file, under its `config:` map.
 */
export const PROD_EXCHANGE_KEYS_YAML = ["bybit-main", "mexc-main"]
    .map(
        (k) =>
            `    ${k}:\n      g1:\n        apiKey:\n          secure: v1:AAAA:BBBB\n        apiSecret:\n          secure: v1:CCCC:DDDD\n`,
    )
    .reduce((a, b) => a + b, "  titan-secrets:exchangeKeys:\n");
