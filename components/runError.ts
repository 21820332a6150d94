// How the program stops an up with a message for a person.

import * as pulumi from "@pulumi/pulumi";

/**
 * A RunError (the engine prints its message alone) whose stack is only that
 * message. The SDK still formats every uncaught error with
 * util.inspect(err, { colors: true }) for its tracing span, and Node 20's
 * inspect loops on a frame such as `(.../node_modules/@pulumi/resource.ts:1598:22)`
 * (a scope with no package after it, which the SDK's source maps produce)
 * until the string overflows: a refused preview took 26-80 s instead of 3 s.
 * Nobody reads a RunError's frames.
 */
export function runError(message: string): pulumi.RunError {
    const e = new pulumi.RunError(message);
    e.stack = `${e.name}: ${message}`;
    return e;
}
