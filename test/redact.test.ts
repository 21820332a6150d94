// The SDK's RPC debug messages carry resource outputs, secrets included;
// the program redacts them before anything is registered.
import * as pulumiLog from "@pulumi/pulumi/log";
import { describe, expect, it } from "vitest";
import { REDACTED, redactMessage, redactRpcDebugLogs } from "../components/redactDebugLog";

describe("redaction of the SDK's RPC debug messages", () => {
    it("keeps the label and drops the response, across lines", () => {
        const msg =
            "RegisterResource RPC finished: resource:k-g1[random:index/randomPassword:RandomPassword]; err: null, resp: urn:...,result,0086f5\nmore";
        expect(redactMessage(msg)).toBe(
            `RegisterResource RPC finished: resource:k-g1[random:index/randomPassword:RandomPassword]; err: null, resp: ${REDACTED}`,
        );
        expect(redactMessage("RegisterResourceOutputs RPC finished: urn=x; err: null, resp: abc")).toBe(
            `RegisterResourceOutputs RPC finished: urn=x; err: null, resp: ${REDACTED}`,
        );
        expect(redactMessage("Registering resource: t=x, name=y")).toBe("Registering resource: t=x, name=y");
    });

    it("replaces the export the SDK runtime calls, once", () => {
        redactRpcDebugLogs();
        const first = pulumiLog.debug;
        redactRpcDebugLogs();
        expect(pulumiLog.debug).toBe(first);
        expect((pulumiLog.debug as { titanRedacted?: boolean }).titanRedacted).toBe(true);
        // The runtime module reaches log.debug through the same module object.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        expect(require("@pulumi/pulumi/log").debug).toBe(first);
    });
});
