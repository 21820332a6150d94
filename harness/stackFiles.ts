// Reads a committed Pulumi.<stack>.yaml into the program's raw config.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { RawConfig } from "../model";

export const REPO = join(__dirname, "..");

export function stackConfig(stack: string): { raw: RawConfig; all: Record<string, unknown> } {
    const doc = parse(readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const get = (k: string) => doc.config[`titan-secrets:${k}`];
    return { raw: { kubernetes: get("kubernetes"), stores: get("stores"), aws: get("aws"), services: get("services"), secrets: get("secrets") }, all: doc.config };
}
