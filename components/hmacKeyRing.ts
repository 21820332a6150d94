// HmacKeyRing: one secret's key material, one @pulumi/random resource per
// live generation (docs/runbook.md section 1, `openssl rand -hex 32`), and the data
// each role's Kubernetes Secret object carries.
//
// RandomPassword, not RandomBytes or RandomId: those two use the key itself
// (base64) as the resource ID, which Pulumi keeps unencrypted in state.
// RandomPassword's ID is "none" and its result is a secret.

import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { HMAC_KEY_BYTES, HmacSecretSpec, Role } from "../model";
import { KeyMaterial, PlanOf, formerly, typeToken } from "./keyMaterial";

export interface HmacKeyRingArgs {
    /** The plan of this secret: its view (who holds which generation). */
    plan: PlanOf<HmacSecretSpec>;
    /**
     * A workload stack of a fleet: each generation's key as the key ring
     * made it (a secret Output read through a StackReference); nothing is
     * generated here.
     */
    received?: (generation: number) => pulumi.Output<string>;
}

/**
 * 64 characters drawn uniformly from 0-9a-f: 256 bits, the shape of
 * `openssl rand -hex 32` (model HMAC_KEY, which a workload stack checks the
 * keys it receives against).
 */
export const HEX_KEY_ARGS: random.RandomPasswordArgs = {
    length: HMAC_KEY_BYTES * 2,
    lower: false,
    upper: false,
    numeric: true,
    special: true,
    overrideSpecial: "abcdef",
};

export class HmacKeyRing extends pulumi.ComponentResource implements KeyMaterial {
    /** Key material per live generation; a secret Output, never a string. */
    readonly values: ReadonlyMap<number, pulumi.Output<string>>;
    private readonly plan: PlanOf<HmacSecretSpec>;

    constructor(name: string, args: HmacKeyRingArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("hmac", "HmacKeyRing"), name, {}, formerly("titan-secrets:hmac:KeyRing", opts));
        this.plan = args.plan;
        const keys = new Map<number, pulumi.Output<string>>();
        // Named by generation: moving between stages never regenerates a key
        // still in use, and a generation that leaves `live` is deleted.
        for (const generation of args.plan.view.live) {
            if (args.received) {
                keys.set(generation, pulumi.secret(args.received(generation)));
                continue;
            }
            const key = new random.RandomPassword(`${name}-g${generation}`, HEX_KEY_ARGS, { parent: this });
            keys.set(generation, pulumi.secret(key.result));
        }
        this.values = keys;
        this.registerOutputs({});
    }

    /** Environment variable -> value for one role's Secret object. */
    dataFor(role: Role): Record<string, pulumi.Output<string> | string> {
        const { spec, view } = this.plan;
        const p = spec.envPrefix;
        const held = view[role];
        const data: Record<string, pulumi.Output<string> | string> = {
            [`${p}_SECRET_PRIMARY`]: this.key(held.generations[0]),
            [`${p}_KEY_ID`]: held.keyIds[0],
        };
        if (held.generations.length > 1) {
            data[`${p}_SECRET_SECONDARY`] = this.key(held.generations[1]);
            data[`${p}_KEY_ID_SECONDARY`] = held.keyIds[1];
        }
        return data;
    }

    private key(generation: number): pulumi.Output<string> {
        const key = this.values.get(generation);
        if (key === undefined) throw new Error(`HmacKeyRing ${this.plan.spec.name}: generation ${generation} is not live`);
        return key;
    }
}
