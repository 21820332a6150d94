// The files generated from the config schemas (npm run generate) are up to
// date, and the JSON Schema an editor uses does what it is for: the
// committed stack files pass it, and the mistakes the program refuses (an
// unknown key of the namespace, a field of another kind) fail it.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "../harness/stackFiles";
import { generated, stackFileSchema } from "../schema/generate";

const validate = new Ajv2020({ strict: false, allErrors: true }).compile(stackFileSchema());
const stackFile = (stack: string) => parse(readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };

describe("generated from the config schemas", () => {
    it.each(Object.keys(generated()))("%s is up to date (run npm run generate)", (file) => {
        expect(readFileSync(file, "utf8")).toBe(generated()[file]);
    });

    it.each(["dev", "local", "prod"])("Pulumi.%s.yaml is valid against schema/stack.schema.json, which it names", (stack) => {
        expect(validate(stackFile(stack)), JSON.stringify(validate.errors)).toBe(true);
        expect(readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8").split("\n")[0]).toBe(
            "# yaml-language-server: $schema=./schema/stack.schema.json",
        );
    });

    it("an editor flags an unknown key of the namespace and a field of another kind", () => {
        const typo = stackFile("dev");
        typo.config["titan-secrets:secret"] = typo.config["titan-secrets:secrets"];
        expect(validate(typo)).toBe(false);
        const wrongKind = stackFile("dev");
        (wrongKind.config["titan-secrets:secrets"] as Record<string, Record<string, unknown>>)["titan-hmac"].length = 16;
        expect(validate(wrongKind)).toBe(false);
        const plainKey = stackFile("dev");
        (plainKey.config["titan-secrets:exchangeKeys"] as any)["bybit-lab"].g1.apiKey = "a plain key";
        expect(validate(plainKey)).toBe(false);
    });
});
