// A fleet of stacks for `rotate run` without the engine: each stack's
// `pulumi up` is what the program decides for it (components/program.ts and
// components/fleet.ts), made of the model's own functions. The key stack
// reads its config from a real stack file; a workload stack reads its own
// config from memory and the key ring and the other clusters' ledgers from
// their last successful ups, each through JSON as a StackReference gives
// them. A refused up throws the ConfigError's message and leaves the
// stack's outputs as they were.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { FleetDriver } from "../../cli/rotate/fleet";
import {
    ClusterReport,
    ConfigError,
    ConfigIssue,
    KeyRingExport,
    Ledger,
    NO_EXCHANGE_KEYS,
    admitRotation,
    followKeyRing,
    keyRingGuard,
    parseConfig,
    rawConfigFrom,
    readKeyRing,
    readLedger,
} from "../../model";
import { withStandings } from "../../components/fleet";

export type ConfigEntries = Record<string, unknown>;

/** One `pulumi up` the fleet was asked for. */
export interface UpRecord {
    stack: string;
    ok: boolean;
    /** The engine's message when it failed. */
    error?: string;
    /** Every stack's ledger after it (the JSON outputs, parsed). */
    ledgers: Record<string, Ledger | undefined>;
}

export interface FakeFleetOptions {
    /** The folder of the key stack's file (Pulumi.<keyStack>.yaml is written there). */
    dir: string;
    keyStack: string;
    /** The key stack's config entries (`titan-secrets:<key>`), written to its file. */
    keyConfig: ConfigEntries;
    /** Each workload stack's config entries. */
    clusters: Record<string, ConfigEntries>;
    /** The program's clock at each up. */
    now: () => Date;
    /** The stack whose file is the driver's keyStackFile (by default the key stack). */
    fileStack?: string;
}

const PROJECT_PREFIX = "titan-secrets:";

export class FakeFleet implements FleetDriver {
    readonly keyStackFile: string;
    readonly ups: UpRecord[] = [];
    /** Each stack's outputs of its last successful up, as JSON text. */
    private readonly outputs = new Map<string, { ledger: string; keyRing?: string }>();
    /** Attempt numbers (counting every up asked for) that fail once with the given message. */
    private readonly failures = new Map<number, string>();
    private attempts = 0;

    constructor(private readonly o: FakeFleetOptions) {
        this.keyStackFile = join(o.dir, `Pulumi.${o.fileStack ?? o.keyStack}.yaml`);
        writeFileSync(join(o.dir, `Pulumi.${o.keyStack}.yaml`), stringify({ config: o.keyConfig }));
    }

    /** The n-th up asked for from now on (1: the next one) throws `message`, once, changing nothing. */
    failUp(n: number, message = `error: update failed (injected: the ${n}th up from here)`): void {
        this.failures.set(this.attempts + n, message);
    }

    /** Forgets the ups recorded so far (the attempt count goes on). */
    clearRecord(): void {
        this.ups.length = 0;
    }

    /** The stacks of the recorded ups that succeeded, in order. */
    succeeded(): string[] {
        return this.ups.filter((u) => u.ok).map((u) => u.stack);
    }

    async ledger(stack: string): Promise<unknown> {
        const out = this.outputs.get(stack);
        return out === undefined ? undefined : (JSON.parse(out.ledger) as unknown);
    }

    /** The last ledger of a stack, parsed (undefined when it has not run). */
    ledgerOf(stack: string): Ledger | undefined {
        const out = this.outputs.get(stack);
        return out === undefined ? undefined : readLedger(JSON.parse(out.ledger)).ledger;
    }

    writeKeyStackFile(text: string): void {
        writeFileSync(this.keyStackFile, text);
    }

    /** The key stack's config as its file says now. */
    keyFileConfig(): ConfigEntries {
        return (parse(readFileSync(join(this.o.dir, `Pulumi.${this.o.keyStack}.yaml`), "utf8")) as { config: ConfigEntries }).config;
    }

    async up(stack: string): Promise<void> {
        this.attempts++;
        const failure = this.failures.get(this.attempts);
        try {
            if (failure !== undefined) {
                this.failures.delete(this.attempts);
                throw new Error(failure);
            }
            const outputs = stack === this.o.keyStack ? this.keysUp() : this.workloadsUp(stack);
            // An up reads the other stacks when it starts and writes its outputs when its roll-outs end:
            // ups run side by side (rotate run --parallel) all read before any of them writes.
            await new Promise((resolve) => setImmediate(resolve));
            this.outputs.set(stack, outputs);
        } catch (e) {
            this.ups.push({ stack, ok: false, error: (e as Error).message, ledgers: this.snapshot() });
            throw e;
        }
        this.ups.push({ stack, ok: true, ledgers: this.snapshot() });
    }

    private snapshot(): Record<string, Ledger | undefined> {
        const all = [this.o.keyStack, ...Object.keys(this.o.clusters)];
        return Object.fromEntries(all.map((s) => [s, this.ledgerOf(s)]));
    }

    /** Another stack's last ledger as a StackReference reads it. */
    private report(stack: string): ClusterReport {
        if (stack !== this.o.keyStack && !Object.hasOwn(this.o.clusters, stack)) throw new Error(`error: stack ${stack} not found`);
        const out = this.outputs.get(stack);
        if (out === undefined) return { stack, unreadable: new Map() };
        const { ledger, unreadable } = readLedger(JSON.parse(out.ledger));
        return { stack, ledger, unreadable };
    }

    private ownLedger(stack: string) {
        const out = this.outputs.get(stack);
        return readLedger(out === undefined ? undefined : JSON.parse(out.ledger));
    }

    /** The key stack: its guard over the clusters, then its plan; exports its ledger (with the clusters' standings) and key ring. */
    private keysUp(): { ledger: string; keyRing: string } {
        const entries = this.keyFileConfig();
        const spec = refuse(() => parseConfig(rawConfigFrom(entries), this.o.keyStack));
        if (spec.fleet.role !== "keys") throw new Error(`${this.o.keyStack} is not a key stack`);
        const previous = this.ownLedger(this.o.keyStack);
        const reports = spec.fleet.clusters.map((c) => this.report(c));
        const guard = keyRingGuard(spec, previous.ledger, reports);
        const plan = refuse(() => {
            const issues: ConfigIssue[] = [...guard.issues];
            let admitted;
            try {
                admitted = admitRotation(spec, previous.ledger, this.o.now(), NO_EXCHANGE_KEYS, previous.unreadable);
            } catch (e) {
                if (!(e instanceof ConfigError)) throw e;
                issues.unshift(...e.issues);
            }
            if (issues.length > 0 || admitted === undefined) throw new ConfigError(issues);
            return admitted;
        });
        // keyRingOutputs: the declaration as written, without consumers or force.
        const declared = (entries[`${PROJECT_PREFIX}secrets`] ?? {}) as Record<string, Record<string, unknown>>;
        const secrets = Object.fromEntries(
            Object.entries(declared).map(([name, s]) => [
                name,
                Object.fromEntries(Object.entries(s).filter(([k]) => !["verifiers", "presenters", "force"].includes(k))),
            ]),
        );
        const keyRing: KeyRingExport = { clusters: spec.fleet.clusters, secrets };
        return { ledger: JSON.stringify(withStandings(plan.ledger, guard.standings)), keyRing: JSON.stringify(keyRing) };
    }

    /** A workload stack: its config with the key ring's secrets, the fleet's rule, then its plan. */
    private workloadsUp(stack: string): { ledger: string } {
        const entries = this.o.clusters[stack];
        if (entries === undefined) throw new Error(`error: no stack named ${stack}`);
        const declared = refuse(() => parseConfig(rawConfigFrom(entries), stack));
        if (declared.fleet.role !== "workloads") throw new Error(`${stack} is not a workload stack`);
        const keyStack = declared.fleet.keyRing;
        const keyOut = this.outputs.get(keyStack);
        const ring = readKeyRing(keyOut?.keyRing === undefined ? undefined : JSON.parse(keyOut.keyRing), keyStack);
        if (!("clusters" in ring)) throw new Error(new ConfigError([ring]).message);
        const spec = refuse(() => parseConfig(rawConfigFrom(entries), stack, ring.secrets));
        const previous = this.ownLedger(stack);
        const others = ring.clusters.filter((c) => c !== stack).map((c) => this.report(c));
        const following = followKeyRing(spec, previous.ledger, stack, ring, others);
        const plan = refuse(() => admitRotation(spec, previous.ledger, this.o.now(), NO_EXCHANGE_KEYS, previous.unreadable, following));
        return { ledger: JSON.stringify(plan.ledger) };
    }
}

/** A ConfigError ends the up with its message (runError), as the program's does. */
function refuse<T>(f: () => T): T {
    try {
        return f();
    } catch (e) {
        if (e instanceof ConfigError) throw new Error(e.message);
        throw e;
    }
}
