// The program: read config, read the ledger of the last up, decide (pure),
// then declare resources. Every refusal happens before the first resource
// that could change anything is declared, so a refused preview or up
// changes nothing.

import * as pulumi from "@pulumi/pulumi";
import { ExchangeKey } from "./apiKeyCredential";
import {
    ConfigError,
    EXCHANGE_KEY_FIELDS,
    Ledger,
    LedgerRead,
    Plan,
    StackSpec,
    ExchangeKeyPresence,
    admitRotation,
    configKey,
    parseConfig,
    presenceOf,
    rawConfigOf,
    readLedger,
    unknownConfigKeys,
} from "../model";
import { redactRpcDebugLogs } from "./redactDebugLog";
import { runError } from "./runError";
import { TitanSecrets } from "./titanSecrets";
import { KeyRingSecrets } from "../model";
import { keyRingOutputs, qualified, readFleet, withStandings } from "./fleet";
import type { KeyRingExport } from "../model";

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
    ledger: pulumi.Output<Ledger>;
    /** A key stack (fleet.role keys): its clusters and each secret's declaration, no value. */
    keyRing?: pulumi.Output<KeyRingExport>;
    /** A key stack: every live generation's key, a secret output (what workload stacks read). */
    keyMaterial?: pulumi.Output<Record<string, Record<string, string>>>;
}

export interface ProgramResult {
    outputs: ProgramOutputs;
    plan: Plan;
}

/**
 * A config key's value parsed as JSON. The SDK's own error for a value that is
 * not JSON prints the value (ConfigTypeError: "value '<v>' is not a valid JSON
 * object"): for exchangeKeys an API secret (set without --path), for
 * kubernetes possibly a kubeconfig's token. This one names the key only.
 */
function configObject<T>(key: string, read: (key: string) => T): T {
    try {
        return read(key);
    } catch {
        throw new ConfigError([
            {
                key: configKey([key]),
                found: "a value that is not JSON (a single value where the program reads a map or a list)",
                allowed: `the map or list documented for ${key} (docs/config-reference.md), its fields set with --path`,
                fix: `pulumi config rm ${key}, then set each field: pulumi config set${key === "exchangeKeys" ? " --secret" : ""} --path '${key}.<field>' <value>`,
            },
        ]);
    }
}

/** Config errors end the program with their message, without a stack trace. */
function refuse<T>(f: () => T): T {
    try {
        return f();
    } catch (e) {
        if (e instanceof ConfigError) throw runError(e.message);
        throw e;
    }
}

/**
 * The stack's config, every key of the project's namespace known: a typo
 * such as `secret:` for `secrets:` is refused rather than read as "no
 * secrets" (which would delete every key). The exchange keys are read apart,
 * as secrets (readExchangeKeys).
 */
export function readStackSpec(config = new pulumi.Config(), keyRing?: KeyRingSecrets): StackSpec {
    return refuse(() => {
        const unknown = unknownConfigKeys(Object.keys(pulumi.runtime.allConfig()));
        if (unknown.length > 0) throw new ConfigError(unknown);
        return parseConfig(
            rawConfigOf((k) => (k === "exchangeKeys" ? undefined : configObject(k, (c) => config.getObject(c)))),
            pulumi.getStack(),
            keyRing,
        );
    });
}

/**
 * The ledger of the last successful up, read from this stack's own outputs.
 * Stack state (not a timer in the program) is what the overlap guard and due
 * dates are computed from; a stack with no outputs yet has an empty ledger.
 * Rows that cannot be read come back apart: planRotation refuses to move
 * those secrets (fail closed).
 */
export async function readPreviousLedger(): Promise<LedgerRead> {
    const ref = new pulumi.StackReference("ledger-of-last-up", { name: qualified(pulumi.getStack()) });
    const details = await ref.getOutputDetails("ledger");
    return readLedger(details.value ?? details.secretValue);
}

function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/**
 * Exchange API keys from secure config, `exchangeKeys.<secret>.g<N>.apiKey`
 * and `.apiSecret`. Only their presence is checked here; the values stay
 * secret Outputs.
 */
async function readExchangeKeys(
    config: pulumi.Config,
): Promise<{ presence: ExchangeKeyPresence; keyOf: (secret: string, generation: number) => ExchangeKey }> {
    type Keys = Record<string, Record<string, Record<string, string>>>;
    const keys: pulumi.Output<Keys> =
        refuse(() => configObject("exchangeKeys", (c) => config.getSecretObject<Keys>(c))) ?? pulumi.secret({} as Keys);
    const present = await promiseOf(keys.apply((k) => [...presenceOf(k)]));
    // `isConfigSecret` is the SDK's own check (marked internal). Without it the
    // program cannot tell a secure value from a plain one: it refuses rather
    // than accept exchange keys that may sit in the stack file in plain text.
    const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    if (typeof isSecret !== "function" && present.length > 0) {
        throw runError(
            "Cannot tell whether titan-secrets:exchangeKeys is stored as a secret: @pulumi/pulumi's runtime.isConfigSecret is missing (the SDK changed). " +
                "The program refuses rather than accept keys that may be in plain text; pin @pulumi/pulumi to a version that has it (see package.json).",
        );
    }
    const storedAsSecret = typeof isSecret === "function" ? isSecret(`${pulumi.getProject()}:exchangeKeys`) : true;
    return {
        presence: { present: new Set(present), storedAsSecret },
        keyOf: (secret, generation) => {
            const field = (f: (typeof EXCHANGE_KEY_FIELDS)[number]) => pulumi.secret(keys.apply((k) => k[secret][`g${generation}`][f]));
            return { apiKey: field("apiKey"), apiSecret: field("apiSecret") };
        },
    };
}

export async function titanSecretsProgram(options: ProgramOptions = {}): Promise<ProgramResult> {
    redactRpcDebugLogs();
    const config = new pulumi.Config();
    const declared = readStackSpec(config);
    const exchange = await readExchangeKeys(config);
    const exchangeKeyOf = exchange.keyOf;
    const previous = await readPreviousLedger();
    const now = (options.now ?? (() => new Date()))();
    const fleet = await readFleet(declared, previous.ledger, (secrets) => readStackSpec(config, secrets));
    const spec = fleet.spec;
    const plan: Plan = refuse(() => {
        // Every problem together: the plan's and the fleet's.
        const issues = [...fleet.keyRingIssues];
        let admitted: Plan | undefined;
        try {
            admitted = admitRotation(spec, previous.ledger, now, exchange.presence, previous.unreadable, fleet.following);
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            issues.unshift(...e.issues);
        }
        if (issues.length > 0 || admitted === undefined) throw new ConfigError(issues);
        return admitted;
    });
    for (const w of plan.warnings) void pulumi.log.warn(w);
    for (const line of plan.summary) void pulumi.log.info(line);

    const titan = new TitanSecrets("titan", { spec, plan, exchangeKeyOf, keyRingKeyOf: fleet.keyOf }, options.componentOptions);
    // An API key's verification is recorded when its Job has succeeded.
    const entries = pulumi.all(
        Object.fromEntries(
            Object.entries(plan.ledger).map(([name, entry]) => {
                const job = titan.verificationJobs.get(name);
                if (!job) return [name, pulumi.output(entry)];
                return [
                    name,
                    job.succeeded.apply((ok) =>
                        ok ? { ...entry, verified: { generation: entry.generation, at: now.toISOString() } } : entry,
                    ),
                ];
            }),
        ),
    ) as pulumi.Output<Ledger>;
    // The new ledger is written only once every roll-out of this up has
    // finished: an up that fails or is interrupted keeps the last one.
    const ledger = pulumi.all([entries, titan.settled]).apply(([l]) => withStandings(l, fleet.standings));
    if (spec.fleet.role !== "keys") return { outputs: { ledger }, plan };
    return { outputs: { ledger, ...keyRingOutputs(config, spec, titan) }, plan };
}
