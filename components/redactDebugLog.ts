// The Node.js SDK logs every resource RPC's response at debug level,
// including secret outputs in plaintext (runtime/resource.js: "RegisterResource
// RPC finished: ...; resp: <the resource's outputs>"). Those messages reach
// `pulumi up --debug`, verbose logs and the Automation API's event stream,
// so a generated key would be printed. This keeps the message and replaces
// the response with a marker, in the module the SDK's runtime itself calls.

import { createRequire } from "node:module";

// The CommonJS module object itself, as the SDK's runtime holds it (an ES
// namespace import can be a frozen copy under other loaders, e.g. tsx).
const pulumiLog = createRequire(__filename)("@pulumi/pulumi/log") as typeof import("@pulumi/pulumi/log");

export const REDACTED = "[redacted by titan-secrets]";
const RESPONSE = /(RPC finished:[\s\S]*?resp: )[\s\S]*$/;

type DebugFn = typeof import("@pulumi/pulumi/log").debug & { titanRedacted?: true };

/** Redacts the responses in the SDK's RPC debug messages. Idempotent. */
export function redactRpcDebugLogs(): void {
    // The runtime calls `log.debug` through the module object, so replacing
    // the export is seen by every caller.
    const mod = pulumiLog as unknown as { debug: DebugFn };
    if (mod.debug.titanRedacted) return;
    const original = mod.debug;
    const redacted: DebugFn = (msg, ...rest) => original(redactMessage(msg), ...rest);
    redacted.titanRedacted = true;
    mod.debug = redacted;
}

/** The message as the redaction leaves it (exported for tests). */
export function redactMessage(msg: string): string {
    return msg.replace(RESPONSE, `$1${REDACTED}`);
}
