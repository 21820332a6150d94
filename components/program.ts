// The program: read config, read the ledger of the last up, decide (pure),
// then declare resources. Every refusal happens before the first resource
// that could change anything is declared, so a refused preview or up
// changes nothing.

import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Ledger, Plan, StackSpec, parseConfig, planRotation, readLedger } from "./model";
import { redactRpcDebugLogs } from "./redactDebugLog";
import { TitanSecrets } from "./titanSecrets";

export interface ProgramOptions {
    /** The clock; tests pass a fixed one. */
    now?: () => Date;
    /** Options for the root component (tests record resource options through it). */
    componentOptions?: pulumi.ComponentResourceOptions;
}

/**
 * The stack outputs. Only what stays the same on an up that changes nothing:
 * the waves of this up are logged in the preview, not exported, or every
 * up would show an output change.
 */
export interface ProgramOutputs {
    /** Per secret: generation, stage, key IDs, when applied, when due. No values. */
    ledger: Ledger;
}

export interface ProgramResult {
    outputs: ProgramOutputs;
    plan: Plan;
}

/** Config errors end the program with their message, without a stack trace. */
function refuse<T>(f: () => T): T {
    try {
        return f();
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

export function readStackSpec(config = new pulumi.Config()): StackSpec {
    return refuse(() =>
        parseConfig(
            {
                kubernetes: config.getObject("kubernetes"),
                stores: config.getObject("stores"),
                aws: config.getObject("aws"),
                services: config.getObject("services"),
                secrets: config.getObject("secrets"),
            },
            pulumi.getStack(),
        ),
    );
}

/**
 * The ledger of the last successful up, read from this stack's own outputs.
 * Stack state (not a timer in the program) is what the overlap guard and due
 * dates are computed from; a stack with no outputs yet has an empty ledger.
 */
export async function readPreviousLedger(): Promise<Ledger> {
    const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    const ref = new pulumi.StackReference("ledger-of-last-up", { name: self });
    const details = await ref.getOutputDetails("ledger");
    const { ledger, dropped } = readLedger(details.value ?? details.secretValue);
    if (dropped.length > 0) {
        void pulumi.log.warn(`The last ledger has unreadable rows for ${dropped.join(", ")}; they are treated as first seen (no overlap guard, no ordering shortcut).`);
    }
    return ledger;
}

export async function titanSecretsProgram(options: ProgramOptions = {}): Promise<ProgramResult> {
    redactRpcDebugLogs();
    const spec = readStackSpec();
    const previous = await readPreviousLedger();
    const plan: Plan = refuse(() => planRotation(spec, previous, (options.now ?? (() => new Date()))()));
    for (const w of plan.warnings) void pulumi.log.warn(w);
    for (const line of plan.summary) void pulumi.log.info(line);

    new TitanSecrets("titan", { spec, plan }, options.componentOptions);
    return { outputs: { ledger: plan.ledger }, plan };
}
