// The SDK's RPC debug messages carry resource outputs, secrets included;
// the program redacts them before anything is registered.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
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

describe("the redaction holds against the SDK's own messages", () => {
    const runtime = join(dirname(require.resolve("@pulumi/pulumi/package.json")), "runtime");
    /** Every `log.debug(`...RPC...`)` template in the SDK's runtime, with its ${...} parts. */
    const templates = readdirSync(runtime)
        .filter((f) => f.endsWith(".js"))
        .flatMap((f) =>
            [...readFileSync(join(runtime, f), "utf8").matchAll(/log\.debug\(\s*(`[^`]*RPC[^`]*`(?:\s*\+[^;]*?`[^`]*`)*)/g)].map(
                (m) => m[1],
            ),
        );
    const PAYLOAD = /innerResponse|JSON\.stringify|resp\b|req\b|serialized/;

    it("finds the SDK's RPC debug messages (the test reads real source)", () => {
        expect(templates.length).toBeGreaterThanOrEqual(6);
        expect(templates.some((t) => t.includes("RegisterResource RPC finished"))).toBe(true);
    });

    it("never lets a payload through, whatever the message", () => {
        for (const template of templates) {
            let n = 0;
            const payloads: string[] = [];
            const message = template.replace(/`/g, "").replace(/\$\{([^}]*)\}/g, (_m, expr: string) => {
                const value = `value${n++}`;
                if (PAYLOAD.test(expr)) {
                    payloads.push(`SECRET-${value}`);
                    return `SECRET-${value}`;
                }
                return value;
            });
            const redacted = redactMessage(message);
            for (const p of payloads) expect(redacted, template).not.toContain(p);
        }
    });

    it("keeps the head of a message, and over-redacts a reworded one rather than print it", () => {
        expect(redactMessage("RegisterResource RPC prepared: t=random:index/randomPassword:RandomPassword, name=k-g1")).toBe(
            "RegisterResource RPC prepared: t=random:index/randomPassword:RandomPassword, name=k-g1",
        );
        expect(redactMessage('RegisterResource RPC prepared: t=x, name=y, obj={"result":"0086f5"}')).toBe(
            `RegisterResource RPC prepared: t=x, name=y, ${REDACTED}`,
        );
        expect(redactMessage("RegisterResource RPC done (x): response 0086f5")).toBe(`RegisterResource RPC done (x): ${REDACTED}`);
    });
});
