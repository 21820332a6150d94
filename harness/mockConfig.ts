// Stack config under Pulumi's mocks, shared by the tests and the benchmark
// (no vitest import here: the benchmark runs outside vitest).
import * as pulumi from "@pulumi/pulumi";

/** Sets the stack config as the engine passes it: JSON per key, the named keys secret. */
export function setStackConfig(raw: object, secretKeys: string[] = []): void {
    pulumi.runtime.setAllConfig(
        Object.fromEntries(
            Object.entries(raw)
                .filter(([, v]) => v !== undefined)
                .map(([k, v]) => [`titan-secrets:${k}`, JSON.stringify(v)]),
        ),
        secretKeys.map((k) => `titan-secrets:${k}`),
    );
}
