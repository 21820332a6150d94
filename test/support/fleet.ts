// Config builders for tests: the Titan fleet of the dev stack, and helpers to
// move one secret through its stages.

import { RawConfig } from "../../model";

export type SecretConfig = Record<string, unknown>;

export const TITAN_SERVICES = {
    "titan-brain": { image: "ghcr.io/titan/brain:1.0.0", replicas: 2 },
    "titan-execution-rs": { image: "ghcr.io/titan/execution-rs:1.0.0", replicas: 2, port: 8080 },
    "titan-sentinel": { image: "ghcr.io/titan/sentinel:1.0.0", env: { LOG_LEVEL: "info" } },
    "titan-ai-quant": { image: "ghcr.io/titan/ai-quant:1.0.0" },
};

export function hmac(generation: number, stage: string, extra: SecretConfig = {}): SecretConfig {
    return {
        kind: "hmac",
        generation,
        stage,
        verifiers: ["titan-execution-rs", "titan-sentinel"],
        presenters: ["titan-brain"],
        ...extra,
    };
}

export function titanConfig(secrets: Record<string, SecretConfig>, services: Record<string, unknown> = TITAN_SERVICES): RawConfig {
    return { kubernetes: { namespace: "titan", renderDir: "rendered" }, services, secrets };
}
