// Stack config under Pulumi's mocks, shared by the tests and the benchmark
// (no vitest import here: the benchmark runs outside vitest).
import * as pulumi from "@pulumi/pulumi";

/** A value the engine passes as it is, not as JSON: a plain value in the stack file (`pulumi config set k text`). */
export class EngineText {
    constructor(readonly text: string) {}
}

/** Sets the stack config as the engine passes it: JSON per key (EngineText as it is), the named keys secret. */
export function setStackConfig(raw: object, secretKeys: string[] = []): void {
    pulumi.runtime.setAllConfig(
        Object.fromEntries(
            Object.entries(raw)
                .filter(([, v]) => v !== undefined)
                .map(([k, v]) => [`titan-secrets:${k}`, v instanceof EngineText ? v.text : JSON.stringify(v)]),
        ),
        secretKeys.map((k) => `titan-secrets:${k}`),
    );
}
