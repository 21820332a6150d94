// The Node.js SDK logs resource RPCs at debug level with their payloads:
// "RegisterResource RPC finished: <label>; err: ..., resp: <the outputs>"
// (secret outputs in plaintext), and with PULUMI_EXCESSIVE_DEBUG_OUTPUT
// "... RPC prepared: t=..., name=..., obj=<the inputs>". Those messages
// reach `pulumi up --debug`, verbose logs and the Automation API's event
// stream, so a generated key would be printed. This keeps each message's
// head (which RPC, which resource) and replaces any payload with a marker,
// in the module the SDK's runtime itself calls.
//
// Fail closed: a message that mentions an RPC but is not in a form known to
// carry no payload loses everything after its first colon, so a reworded
// SDK message is over-redacted, never printed (test/redact.test.ts pins the
// forms against the SDK's own source).

import { createRequire } from "node:module";

// The CommonJS module object itself, as the SDK's runtime holds it (an ES
// namespace import can be a frozen copy under other loaders, e.g. tsx).
const pulumiLog = createRequire(__filename)("@pulumi/pulumi/log") as typeof import("@pulumi/pulumi/log");

export const REDACTED = "[redacted by titan-secrets]";

/** "... RPC finished: <label>; err: <error>, resp: <payload>": the payload goes. */
const FINISHED = /^([^\n]*RPC finished:[^\n]*?resp: )[\s\S]*$/;
/** "... RPC prepared: t=..., name=..." (ids, types, names, tokens): kept; anything after them goes. */
const PREPARED = /^([^\n]*RPC prepared: (?:(?:id|t|name|tok)=[^,\n]*(?:, )?)+?)(?:(?:, )?obj=[\s\S]*)?$/;

type DebugFn = typeof import("@pulumi/pulumi/log").debug & { titanRedacted?: true };

/** Redacts the payloads of the SDK's RPC debug messages. Idempotent. */
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
    if (!/\bRPC\b/.test(msg)) return msg;
    const finished = FINISHED.exec(msg);
    if (finished) return `${finished[1]}${REDACTED}`;
    const prepared = PREPARED.exec(msg);
    if (prepared) return prepared[0].length === prepared[1].length ? msg : `${prepared[1].replace(/, $/, "")}, ${REDACTED}`;
    const colon = msg.indexOf(":");
    return colon < 0 ? REDACTED : `${msg.slice(0, colon + 1)} ${REDACTED}`;
}
