// The `auth_failures` counter the runbook tells operators to watch, in
// Prometheus text format (prom-client). The PrometheusRule the program owns
// (model/monitoring.ts) alerts on `auth_failures{secret="<name>"}` while that
// secret is rotating, so each failure is labelled with the secret's name and
// a reason; never with a key or a signature.

import { Counter, Registry } from "prom-client";

export const AUTH_FAILURES = "auth_failures";
export const AUTH_FAILURE_REASONS = ["missing_signature", "bad_key_id", "unknown_key_id", "bad_signature", "login_refused"] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export class AuthFailures {
    readonly registry: Registry;
    private readonly counter: Counter<"secret" | "reason">;

    constructor(registry: Registry = new Registry()) {
        this.registry = registry;
        this.counter = new Counter({
            name: AUTH_FAILURES,
            help: "Requests or logins refused for a credential, by secret and reason.",
            labelNames: ["secret", "reason"],
            registers: [registry],
        });
    }

    inc(secret: string, reason: AuthFailureReason): void {
        this.counter.inc({ secret, reason });
    }

    /** The count for one secret (all reasons). */
    async count(secret: string): Promise<number> {
        const metric = await this.counter.get();
        return metric.values.filter((v) => v.labels.secret === secret).reduce((n, v) => n + v.value, 0);
    }

    /** The text a /metrics endpoint serves. */
    metrics(): Promise<string> {
        return this.registry.metrics();
    }
}
