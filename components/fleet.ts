// The program's side of a fleet (model/fleet.ts): what a key stack and a
// workload stack read from the other stacks, all through Pulumi itself.
// StackReferences read the last successful up of each stack; the keys travel
// as the key stack's secret output. A workload stack reads them once, before
// any resource, to check them (model/keyRingMaterial.ts: a message names the
// secret and generation, never a value), and hands them on only as secret
// Outputs (never plain in state or logs).

import * as pulumi from "@pulumi/pulumi";
import {
    ClusterReport,
    ClusterStanding,
    ConfigError,
    ConfigIssue,
    Following,
    KeyRingExport,
    Ledger,
    StackSpec,
    clusterResourceName,
    configKey,
    followKeyRing,
    keyRingGuard,
    readKeyMaterial,
    readKeyRing,
    readLedger,
} from "../model";
import { runError } from "./runError";
import type { TitanSecrets } from "./titanSecrets";

/** `eu` -> `<organization>/<project>/eu`; a name with slashes is taken as it is. */
export function qualified(stack: string): string {
    return stack.includes("/") ? stack : `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}`;
}

export interface FleetRead {
    /** The spec of this up: a workload stack's secrets come from its key ring. */
    spec: StackSpec;
    /** A workload stack: which presenters wait, and what the fleet refuses. */
    following?: Following;
    /** A key stack: what its guard refuses. */
    keyRingIssues: ConfigIssue[];
    /** A key stack: where each cluster stands, per secret (for its ledger). */
    standings?: Map<string, Record<string, ClusterStanding>>;
    /** A workload stack: a generation's key, from the key ring (a secret Output). */
    keyOf?: (secret: string, generation: number) => pulumi.Output<string>;
}

/**
 * One output of another stack (`stack`, read through `ref`), with whether it
 * is a secret. A stack that cannot be read stops the up with a ConfigError
 * at `key`, saying what is `allowed` there.
 */
async function outputDetailsOf(
    ref: pulumi.StackReference,
    stack: string,
    output: string,
    key: string,
    allowed: string,
): Promise<{ value: unknown; secret: boolean }> {
    try {
        const details = await ref.getOutputDetails(output);
        return { value: details.value ?? details.secretValue, secret: details.secretValue !== undefined };
    } catch (e) {
        throw runError(
            new ConfigError([
                {
                    key,
                    found: `${JSON.stringify(stack)}, whose stack cannot be read (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`,
                    allowed,
                },
            ]).message,
        );
    }
}

/** One output of another stack, as outputDetailsOf reads it, secret or not. */
async function outputOf(ref: pulumi.StackReference, stack: string, output: string, key: string, allowed: string): Promise<unknown> {
    return (await outputDetailsOf(ref, stack, output, key, allowed)).value;
}

/** A cluster's last ledger. A stack that does not exist stops the up with the command that creates it. */
async function readReport(stack: string, key: string): Promise<ClusterReport> {
    const raw = await outputOf(
        new pulumi.StackReference(clusterResourceName(stack), { name: qualified(stack) }),
        stack,
        "ledger",
        key,
        `a stack of this backend; a cluster that has not run yet is created with pulumi stack init ${stack} (it then holds nothing)`,
    );
    const { ledger, unreadable } = readLedger(raw);
    return { stack, ledger: raw === undefined ? undefined : ledger, unreadable };
}

/**
 * Reads the rest of the fleet for this up. `withKeyRing` parses this
 * stack's config again with the key ring's secrets (a workload stack).
 */
export async function readFleet(
    declared: StackSpec,
    ownLedger: Ledger,
    withKeyRing: (secrets: KeyRingExport["secrets"]) => StackSpec,
): Promise<FleetRead> {
    const fleet = declared.fleet;
    if (fleet.role === "all") return { spec: declared, keyRingIssues: [] };
    if (fleet.role === "keys") {
        const reports = await Promise.all(fleet.clusters.map((c, i) => readReport(c, configKey(["fleet", "clusters", i]))));
        const guard = keyRingGuard(declared, ownLedger, reports);
        return { spec: declared, keyRingIssues: guard.issues, standings: guard.standings };
    }
    const ref = new pulumi.StackReference("key-ring", { name: qualified(fleet.keyRing) });
    const raw = await outputOf(
        ref,
        fleet.keyRing,
        "keyRing",
        configKey(["fleet", "keyRing"]),
        "the key stack (fleet.role keys) of this backend, after its first pulumi up",
    );
    const ring = readKeyRing(raw, fleet.keyRing);
    if (!("clusters" in ring)) throw runError(new ConfigError([ring]).message);
    const spec = withKeyRing(ring.secrets);
    // The keys of every secret this cluster consumes, checked before anything is declared.
    const material = readKeyMaterial(
        await outputDetailsOf(
            ref,
            fleet.keyRing,
            "keyMaterial",
            configKey(["fleet", "keyRing"]),
            "the key stack (fleet.role keys) of this backend, after its first pulumi up",
        ),
        fleet.keyRing,
        spec.secrets.values(),
    );
    if ("issues" in material) throw runError(new ConfigError(material.issues).message);
    const me = qualified(pulumi.getStack());
    const self = ring.clusters.find((c) => qualified(c) === me) ?? pulumi.getStack();
    const others = ring.clusters.filter((c) => qualified(c) !== me);
    const reports = await Promise.all(others.map((c) => readReport(c, configKey(["fleet", "keyRing"]))));
    const following = followKeyRing(spec, ownLedger, self, ring, reports);
    const keyOf = (secret: string, generation: number) => {
        const v = material.keys.get(secret)?.get(generation);
        // readKeyMaterial checked every live generation of every consumed secret: this is a bug, not input.
        if (v === undefined) throw new Error(`readFleet: no checked key for ${secret} generation ${generation}`);
        return pulumi.secret(v);
    };
    return { spec, following, keyRingIssues: [], keyOf };
}

/** The key stack's ledger rows, each with where the clusters stood at this up. */
export function withStandings(ledger: Ledger, standings: FleetRead["standings"]): Ledger {
    if (!standings) return ledger;
    const out: Ledger = Object.create(null) as Ledger;
    for (const [name, row] of Object.entries(ledger)) out[name] = { ...row, clusters: standings.get(name) ?? {} };
    return out;
}

/**
 * What a key stack exports: `keyRing` (plain: its clusters and each
 * secret's declaration as written, without consumers) and `keyMaterial`
 * (secret: every live generation's key).
 */
export function keyRingOutputs(
    config: pulumi.Config,
    spec: StackSpec,
    titan: TitanSecrets,
): { keyRing: pulumi.Output<KeyRingExport>; keyMaterial: pulumi.Output<Record<string, Record<string, string>>> } {
    if (spec.fleet.role !== "keys") throw new Error("keyRingOutputs: not a key stack");
    const declared = config.getObject<Record<string, Record<string, unknown>>>("secrets") ?? {};
    const secrets: Record<string, Record<string, unknown>> = {};
    for (const [name, s] of Object.entries(declared)) {
        secrets[name] = Object.fromEntries(Object.entries(s).filter(([k]) => !["verifiers", "presenters", "force"].includes(k)));
    }
    const perSecret = [...titan.materials].map(([name, m]) =>
        pulumi
            .all([...m.values].map(([g, v]) => v.apply((value) => [`g${g}`, value] as const)))
            .apply((pairs) => [name, Object.fromEntries(pairs)] as const),
    );
    return {
        keyRing: pulumi.output({ clusters: spec.fleet.clusters, secrets }),
        keyMaterial: pulumi.secret(pulumi.all(perSecret).apply((entries) => Object.fromEntries(entries))),
    };
}
