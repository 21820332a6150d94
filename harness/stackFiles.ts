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
