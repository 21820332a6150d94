// The titan-secrets policies: each one a thin wrapper around a rule of
// rules.ts. `titanPolicies({ now })` takes the clock so tests can fix it.

import { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    DEFAULT_DUE_SOON_DAYS,
    DEFAULT_MAX_AGE_DAYS,
    Finding,
    SECRET_TYPE,
    StackResource,
    dueSoonFindings,
    incidentFindings,
    ledgersOf,
    orderFindings,
    outputFindings,
    overdueFindings,
    plainKeyMaterialFindings,
    secretObjectFindings,
    singleSlotFindings,
} from "./rules";
import { probed, rawProps, secretnessOf } from "./secretness";

export interface PolicyOptions {
    /** The clock (tests); default: the time of the preview. */
    now?: () => Date;
}

function report(findings: Finding[], reportViolation: (message: string, urn?: string) => void): void {
    for (const f of findings) reportViolation(f.message, f.urn);
}

/** Stack validations get PolicyResource objects; the rules need only these fields. */
function asStackResources(
    resources: { type: string; urn: string; name: string; props: Record<string, unknown>; dependencies: { urn: string }[] }[],
): StackResource[] {
    return resources;
}

export function titanPolicies(options: PolicyOptions = {}): Policies {
    const now = options.now ?? (() => new Date());

    const maxAge: StackValidationPolicy = {
        name: "secret-max-age",
        description:
            "A secret past its maximum age (maxAgeDays; 90 days for HMAC and API keys, 180 for service credentials) must be rotated in the same change.",
        enforcementLevel: "mandatory",
        severity: "high",
        configSchema: {
            properties: {
                maxAgeDays: {
                    type: "object",
                    description: "Per kind, a ceiling on maxAgeDays (the stack's own maxAgeDays applies when it is lower).",
                    additionalProperties: { type: "integer", minimum: 1 },
                    default: DEFAULT_MAX_AGE_DAYS,
                },
            },
        },
        validateStack: (args, reportViolation) => {
            const { maxAgeDays } = args.getConfig<{ maxAgeDays?: Record<string, number> }>();
            report(overdueFindings(ledgersOf(asStackResources(args.resources)), { now: now(), maxAgeDays }), reportViolation);
        },
    };

    const dueSoon: StackValidationPolicy = {
        name: "secret-due-soon",
        description: "A secret due for rotation soon (within dueSoonDays, 14 by default).",
        enforcementLevel: "advisory",
        severity: "low",
        configSchema: {
            properties: {
                dueSoonDays: { type: "integer", minimum: 1, default: DEFAULT_DUE_SOON_DAYS },
                maxAgeDays: { type: "object", additionalProperties: { type: "integer", minimum: 1 }, default: DEFAULT_MAX_AGE_DAYS },
            },
        },
        validateStack: (args, reportViolation) => {
            const { dueSoonDays, maxAgeDays } = args.getConfig<{ dueSoonDays?: number; maxAgeDays?: Record<string, number> }>();
            report(dueSoonFindings(ledgersOf(asStackResources(args.resources)), { now: now(), dueSoonDays, maxAgeDays }), reportViolation);
        },
    };

    const incident: StackValidationPolicy = {
        name: "compromised-needs-incident",
        description: "A secret in the compromised stage names the incident that caused it.",
        enforcementLevel: "mandatory",
        severity: "high",
        validateStack: (args, reportViolation) => report(incidentFindings(ledgersOf(asStackResources(args.resources))), reportViolation),
    };

    const order: StackValidationPolicy = {
        name: "overlap-roll-out-order",
        description:
            "In an overlap, every presenter Deployment that changes waits for every verifier Deployment of that secret that changes (revert: the other way round).",
        enforcementLevel: "mandatory",
        severity: "critical",
        validateStack: (args, reportViolation) => {
            const resources = asStackResources(args.resources);
            report(orderFindings(resources, ledgersOf(resources)), reportViolation);
        },
    };

    const outputs: StackValidationPolicy = {
        name: "stack-outputs-carry-no-key-material",
        description: "Stack outputs carry key IDs, generations, stages and times, never key material.",
        enforcementLevel: "mandatory",
        severity: "critical",
        validateStack: (args, reportViolation) => report(outputFindings(asStackResources(args.resources)), reportViolation),
    };

    const singleSlot: StackValidationPolicy = {
        name: "single-slot-failed-logins",
        description: "A rotation on a verifier that holds one credential at a time fails logins until every presenter has restarted.",
        enforcementLevel: "advisory",
        severity: "medium",
        validateStack: (args, reportViolation) => {
            const resources = asStackResources(args.resources);
            report(singleSlotFindings(ledgersOf(resources)), reportViolation);
        },
    };

    const probe: ResourceValidationPolicy = {
        name: "secretness-probe",
        description:
            "Records which data/stringData entries of each Kubernetes Secret are Pulumi secrets, for key-material-is-secret. Changes nothing.",
        enforcementLevel: "remediate",
        remediateResource: (args) => {
            if (args.type === SECRET_TYPE) probed.set(args.urn, secretnessOf(rawProps(args.props)));
            return undefined;
        },
    };

    const secretness: ResourceValidationPolicy = {
        name: "key-material-is-secret",
        description:
            "Key material travels only as Pulumi secrets: Kubernetes Secret data, no ConfigMap entries or plain env values that look like credentials.",
        enforcementLevel: "mandatory",
        severity: "critical",
        validateResource: (args, reportViolation) => {
            const findings =
                args.type === SECRET_TYPE
                    ? secretObjectFindings(args.name, probed.get(args.urn))
                    : plainKeyMaterialFindings(args.type, args.name, args.props);
            report(findings, reportViolation);
        },
    };

    return [maxAge, dueSoon, incident, order, outputs, singleSlot, probe, secretness];
}
