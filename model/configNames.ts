// Names the config gives (key IDs, clusters, workloads, variables, labels)
// and the Kubernetes objects the program builds from them: checked across
// the whole config, before any resource, so that two things never end up
// under one name and no name reaches the API server that it would refuse.

import { ConfigIssue, PROJECT, configKey } from "./errors";
import { SERVER_CONFIG, deliveryFor } from "./delivery";
import { DNS_LABEL_MAX, DNS_SUBDOMAIN_MAX, STATEFULSET_NAME_MAX, nameProblem } from "./kubernetesNames";
import { MANAGED_BY, clusterResourceName, secretObjectName, verificationJobName } from "./names";
import { FleetSpec, MonitoringSpec, SecretSpec, ServiceSpec } from "./types";

/** Whether the stage keeps generation N-1 live beside N (as config.ts hasSecondary; no import cycle). */
const secondary = (s: SecretSpec) => s.stage === "overlap" || s.stage === "revert";

/**
 * A key ID names one key across the stack: verifiers pick the key by it, logs
 * and the ledger name it. Compared ignoring case (a header value, a file name
 * on a case-insensitive disk). A declared key ID may not take the form of
 * another secret's defaults (`<other>-g<N>`): that secret would reach it at
 * generation N, or did.
 */
export function checkKeyIds(secrets: Map<string, SecretSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const owner = new Map<string, { secret: string; field: string; id: string }>();
    const clashing = new Set<string>();
    for (const s of secrets.values()) {
        const ids: [string, string][] = [["keyId", s.keyId]];
        if (secondary(s)) ids.push(["previousKeyId", s.previousKeyId]);
        for (const [field, id] of ids) {
            const lower = id.toLowerCase();
            const other = owner.get(lower);
            if (other !== undefined && other.secret !== s.name) {
                clashing.add(`${s.name}/${field}`);
                issues.push({
                    key: configKey(["secrets", s.name, field]),
                    found: `${JSON.stringify(id)}, the key ID of secret ${JSON.stringify(other.secret)} (its ${other.field} ${JSON.stringify(other.id)}, compared ignoring case)`,
                    allowed: "a key ID that no other secret of the stack uses: a key ID names one key (verifiers pick the key by it)",
                });
            } else if (other === undefined) owner.set(lower, { secret: s.name, field, id });
        }
    }
    for (const s of secrets.values()) {
        const ids: [string, string, number][] = [["keyId", s.keyId, s.generation]];
        if (secondary(s)) ids.push(["previousKeyId", s.previousKeyId, s.generation - 1]);
        for (const [field, id, generation] of ids) {
            if (clashing.has(`${s.name}/${field}`) || id === `${s.name}-g${generation}`) continue;
            // <secret>-g<N>, or the fresh form <secret>-g<N>-<i> a returning generation gets (ledger.ts freshKeyId).
            const match = /^(.+)-g(\d+)(-\d+)?$/.exec(id.toLowerCase());
            if (!match || match[1] === s.name || !secrets.has(match[1])) continue;
            issues.push({
                key: configKey(["secrets", s.name, field]),
                found: `${JSON.stringify(id)}, which is the default key ID of secret ${JSON.stringify(match[1])} at generation ${Number(match[2])}`,
                allowed: `a key ID outside every other secret's defaults (<secret>-g<N>): ${match[1]} has, had or will have that one`,
            });
        }
    }
    return issues;
}

/** `eu` is this project's stack eu; `org/eu` too; `org/project/eu` says its project. */
function stackParts(stack: string): { org?: string; project: string; name: string } {
    const parts = stack.split("/");
    if (parts.length === 3) return { org: parts[0], project: parts[1], name: parts[2] };
    if (parts.length === 2) return { org: parts[0], project: PROJECT, name: parts[1] };
    return { project: PROJECT, name: stack };
}

/** Whether two stack names may name one stack: same project and stack, and the organization is the same or one is not said. */
function mayBeOneStack(a: string, b: string): boolean {
    const p = stackParts(a);
    const q = stackParts(b);
    return p.name === q.name && p.project === q.project && (p.org === undefined || q.org === undefined || p.org === q.org);
}

/**
 * A key stack's clusters: never itself, and each once, whatever the form it
 * is written in (`eu/a` and `eu-a` become one resource name; `eu` and
 * `org/titan-secrets/eu` may be one stack). A workload stack does not follow
 * itself. `stack` is this stack's name, bare (pulumi.getStack()) or qualified.
 */
export function checkFleetNames(fleet: FleetSpec, stack: string): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const isSelf = (c: string) => mayBeOneStack(c, stack);
    if (fleet.role === "workloads" && isSelf(fleet.keyRing)) {
        issues.push({
            key: configKey(["fleet", "keyRing"]),
            found: `${JSON.stringify(fleet.keyRing)}, this stack itself`,
            allowed: "the key stack (fleet.role keys) this cluster follows, another stack",
        });
    }
    if (fleet.role !== "keys") return issues;
    fleet.clusters.forEach((c, i) => {
        if (isSelf(c)) {
            issues.push({
                key: configKey(["fleet", "clusters", i]),
                found: `${JSON.stringify(c)}, this stack itself (the key stack)`,
                allowed:
                    "the workload stacks (fleet.role workloads) of the clusters that follow this key ring; the key stack declares no workload",
                fix: `pulumi config rm --path 'fleet.clusters[${i}]'`,
            });
        }
        const j = fleet.clusters.findIndex((d, k) => k < i && (mayBeOneStack(c, d) || clusterResourceName(d) === clusterResourceName(c)));
        if (j >= 0) {
            const d = fleet.clusters[j];
            issues.push({
                key: configKey(["fleet", "clusters", i]),
                found:
                    d === c
                        ? `${JSON.stringify(c)} twice (also fleet.clusters[${j}])`
                        : clusterResourceName(d) === clusterResourceName(c)
                          ? `${JSON.stringify(c)}, which becomes the same resource name as ${JSON.stringify(d)} (fleet.clusters[${j}]): ${clusterResourceName(c)}`
                          : `${JSON.stringify(c)}, which may name the same stack as ${JSON.stringify(d)} (fleet.clusters[${j}])`,
                allowed: "each cluster's stack once, under names that stay distinct when '/' becomes '-'",
            });
        }
    });
    return issues;
}

/**
 * The workloads: one service per workload (two services patching one, or a
 * patch of one the program declares, would write the same fields under one
 * field manager), a StatefulSet name its controller can label, and no `runAs`
 * on a patch, which cannot set the pod's fsGroup: the files would arrive at
 * 0440 owned by a group the user is not in.
 */
export function checkWorkloads(services: Map<string, ServiceSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const claimed = new Map<string, string>(); // "<kind>/<name>" -> service
    const ordered = [...services.values()].sort((a, b) => Number(!!a.ownedElsewhere) - Number(!!b.ownedElsewhere));
    for (const s of ordered) {
        const target = s.ownedElsewhere ?? { kind: s.workload, name: s.name };
        const id = `${target.kind}/${target.name}`;
        const other = claimed.get(id);
        if (other !== undefined && s.ownedElsewhere) {
            const theirs = services.get(other)!;
            issues.push({
                key: configKey(["services", s.name, "ownedElsewhere", "name"]),
                found: `${JSON.stringify(target.name)}, the ${target.kind} ${theirs.ownedElsewhere ? `that service ${JSON.stringify(other)} also patches` : `the program declares for service ${JSON.stringify(other)}`}`,
                allowed: "a workload that no other service declares or patches (one workload, one service)",
            });
        } else claimed.set(id, s.name);
        if (!s.ownedElsewhere && s.workload === "StatefulSet" && s.name.length > STATEFULSET_NAME_MAX) {
            issues.push({
                key: configKey(["services", s.name]),
                found: `the service name ${JSON.stringify(s.name)} (${s.name.length} characters) for a StatefulSet`,
                allowed: `at most ${STATEFULSET_NAME_MAX} characters for a StatefulSet: its controller labels each pod controller-revision-hash: <name>-<hash of up to 10 characters>, and a label value holds 63`,
            });
        }
        if (s.ownedElsewhere && s.runAs) {
            issues.push({
                key: configKey(["services", s.name, "runAs"]),
                found: `a user and group on a service whose workload is owned elsewhere (${s.ownedElsewhere.kind} ${s.ownedElsewhere.name})`,
                allowed:
                    "no runAs here: files at 0440 are readable through the pod's fsGroup, which the patch does not set (the owner's field), so the user could not read them",
                fix: `remove services.${s.name}.runAs; the owner runs the pod, or let the program own the workload (drop ownedElsewhere)`,
            });
        }
    }
    return issues;
}

/**
 * The object names the program builds from a secret's name and generations
 * (model/names.ts), each under Kubernetes' limit for it: a Secret's name is a
 * subdomain (253); a Job's name becomes its pods' job-name label (63).
 */
export function checkObjectNames(secrets: Map<string, SecretSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const s of secrets.values()) {
        const held = [s.generation, s.generation - 1].filter((g) => g >= 1);
        const built: [string, string, number][] = (["verifier", "presenter"] as const).map((role) => [
            `the ${role}s' Secret object`,
            secretObjectName(s.name, role, held),
            DNS_SUBDOMAIN_MAX,
        ]);
        if (s.kind === "apiKey" && s.verification) {
            built.push(["the verification Job", verificationJobName(s.name, s.generation), DNS_LABEL_MAX]);
        }
        for (const [what, objectName, max] of built) {
            const problem = nameProblem(objectName, max);
            if (problem === undefined) continue;
            issues.push({
                key: configKey(["secrets", s.name]),
                found: `a name that makes ${what} ${JSON.stringify(objectName)}: ${problem}`,
                allowed: `a secret name whose objects Kubernetes accepts (${max === DNS_LABEL_MAX ? "an RFC 1123 label of at most 63 characters" : "an RFC 1123 subdomain of at most 253 characters"})`,
            });
        }
    }
    return issues;
}

/**
 * A variable the program delivers is the program's: a user's value under the
 * same name would be overwritten (the delivered one is merged last), or
 * would overwrite it. Checked for every delivery, a server's config file
 * (REDIS_ACL_FILE, NATS_CONFIG_FILE) and an API key's verification Job too.
 */
export function checkDeliveredEnv(secrets: Map<string, SecretSpec>, services: Map<string, ServiceSpec>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const s of secrets.values()) {
        for (const role of ["verifier", "presenter"] as const) {
            const d = deliveryFor(s, role);
            const names = [...d.secretEnv, ...Object.keys(d.plainEnv)];
            for (const svc of role === "verifier" ? s.verifiers : s.presenters) {
                const env = services.get(svc)?.env;
                for (const v of names) {
                    if (env && Object.hasOwn(env, v)) {
                        issues.push({
                            key: configKey(["services", svc, "env", v]),
                            found: `a plain value for ${v}, which secret ${JSON.stringify(s.name)} delivers${isServerConfig(v) ? " (the server config the program renders)" : ""}`,
                            allowed: "environment names that no secret delivers to this service",
                        });
                    }
                }
            }
        }
        if (s.kind === "apiKey" && s.verification) {
            for (const v of Object.keys(deliveryFor(s, "presenter").plainEnv)) {
                if (Object.hasOwn(s.verification.env, v)) {
                    issues.push({
                        key: configKey(["secrets", s.name, "verification", "env", v]),
                        found: `a plain value for ${v}, which the program delivers to the verification Job`,
                        allowed: "environment names the program does not deliver to the Job",
                    });
                }
            }
        }
    }
    return issues;
}

function isServerConfig(v: string): boolean {
    return Object.values(SERVER_CONFIG).some((c) => c.env === v);
}

/** The Prometheus rule's labels: the user's are added to the program's own, never in place of them. */
export function checkMonitoringLabels(monitoring: MonitoringSpec): ConfigIssue[] {
    return Object.keys(monitoring.labels)
        .filter((k) => Object.hasOwn(MANAGED_BY, k))
        .map((k) => ({
            key: configKey(["monitoring", "labels", k]),
            found: `${JSON.stringify(monitoring.labels[k])}, in place of the program's own label`,
            allowed: `labels other than ${Object.keys(MANAGED_BY).join(", ")}, which marks what the program manages`,
        }));
}
