// Refusals end the program as RunErrors whose stack is their message alone:
// the SDK formats every uncaught error with util.inspect for its tracing
// span, and Node 20's inspect loops on the @pulumi frames the SDK's source
// maps produce (components/runError.ts). A refused preview then
// took 26-80 s instead of 3 s.
import { inspect } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runError } from "../components/runError";

describe("refusals as RunErrors", () => {
    it("carry their message and no stack frame", () => {
        const e = runError("Invalid stack config. titan-secrets:secrets.x.stage: found ...");
        expect(pulumi.RunError.isInstance(e)).toBe(true);
        expect(e.stack).toBe("Error: Invalid stack config. titan-secrets:secrets.x.stage: found ...");
        expect(inspect(e, { colors: true })).not.toMatch(/\n\s+at /);
    });
});
