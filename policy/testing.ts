// Fakes of what @pulumi/policy hands to policies, for this pack's tests
// (test/policy.test.ts). The SDK ships no test helpers; these build props
// the way its server does (server.js: deserializeProperties + proxies).

import {
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";
import { secretsPreservingProxy } from "@pulumi/policy/secret";
import { StackResource } from "./rules";

export { Secret };

/** A remediation's props: secrets wrapped in policy.Secret, behind both SDK proxies. */
export function remediationProps(raw: Record<string, unknown>): Record<string, unknown> {
    return unknownCheckingProxy(secretsPreservingProxy(raw));
}

export interface Violation {
    message: string;
    urn?: string;
}

export function spy(): { report: ReportViolation; violations: Violation[] } {
    const violations: Violation[] = [];
    return { violations, report: (message: string, urn?: string) => violations.push({ message, urn }) };
}

const notApplicable = (reason?: string): never => {
    throw new Error(`not applicable: ${reason ?? ""}`);
};

/** Runs a stack policy on fake resources; returns what it reported. */
export async function runStackPolicy(policy: Policy, resources: StackResource[], config: object = {}): Promise<Violation[]> {
    const { report, violations } = spy();
    const args = {
        resources,
        stackTags: new Map<string, string>(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    } as unknown as StackValidationArgs;
    await (policy as StackValidationPolicy).validateStack(args, report);
    return violations;
}

/** Runs a resource policy's remediation, then its validation, on one fake resource, as the engine does. */
export async function runResourcePolicies(
    policies: Policy[],
    resource: { type: string; urn: string; name: string; props: Record<string, unknown> },
    config: object = {},
): Promise<Violation[]> {
    const { report, violations } = spy();
    const base = {
        type: resource.type,
        urn: resource.urn,
        name: resource.name,
        stackTags: new Map<string, string>(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
    for (const p of policies as ResourceValidationPolicy[]) {
        if (p.enforcementLevel === "remediate" && p.remediateResource) {
            await p.remediateResource({ ...base, props: remediationProps(resource.props) } as unknown as ResourceValidationArgs);
        }
    }
    const plain = JSON.parse(JSON.stringify(resource.props, (_k, v) => (v instanceof Secret ? v.value : v)));
    for (const p of policies as ResourceValidationPolicy[]) {
        if (p.enforcementLevel === "remediate" || !p.validateResource) continue;
        const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
        for (const v of validations) await v({ ...base, props: unknownCheckingProxy(plain) } as unknown as ResourceValidationArgs, report);
    }
    return violations;
}
