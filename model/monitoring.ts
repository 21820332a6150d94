// The PrometheusRule that tells the on-call which rotation an auth failure
// belongs to: one alert per secret that is in overlap, revert or
// compromised, each labelled with the secret, its stage and generation.

import { Plan } from "./plan";

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

/** Failures of one secret, as consumers count them (consumer/metrics.ts labels each with the secret's name). */
export function authFailuresExpr(secret: string): string {
    return `sum(increase(auth_failures{secret="${secret}"}[5m])) > 0`;
}

export function rotationAlerts(plan: Plan): AlertRule[] {
    return plan.secrets
        .filter((p) => p.spec.stage !== "stable")
        .map((p) => ({
            alert: "TitanAuthFailuresDuringRotation",
            expr: authFailuresExpr(p.spec.name),
            for: p.spec.stage === "compromised" ? "0m" : "2m",
            labels: {
                severity: p.spec.stage === "compromised" ? "critical" : "warning",
                secret: p.spec.name,
                stage: p.spec.stage,
                generation: String(p.spec.generation),
                kind: p.spec.kind,
            },
            annotations: {
                summary: `auth_failures rising while ${p.spec.name} is in ${p.spec.stage} at generation ${p.spec.generation}`,
                description:
                    p.spec.stage === "compromised"
                        ? `Emergency rotation (incident ${p.spec.incident}): failures are expected until every consumer has restarted.`
                        : `Check the presenters of ${p.spec.name} (${p.spec.presenters.join(", ")}) and its verifiers; to go back, set stage ${p.spec.stage === "overlap" ? "revert" : "stable"}.`,
            },
        }));
}
