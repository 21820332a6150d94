// ApiKeyCredential: an exchange API key (docs/runbook.md section 3). The key is made
// by a person on the exchange and arrives as secure stack config per
// generation; presenters (titan-execution-rs, titan-ai-quant) get it as
// files under /run/secrets; the exchange is the verifier, and holds two keys
// while the rotation overlaps.

import * as pulumi from "@pulumi/pulumi";
import { ApiKeySecretSpec, Role } from "../model";
import { KeyMaterial, PlanOf, formerly, typeToken } from "./keyMaterial";

export interface ExchangeKey {
    apiKey: pulumi.Output<string>;
    apiSecret: pulumi.Output<string>;
}

export interface ApiKeyCredentialArgs {
    plan: PlanOf<ApiKeySecretSpec>;
    /** The key of a generation, from secure config. */
    keyOf: (generation: number) => ExchangeKey;
}

export class ApiKeyCredential extends pulumi.ComponentResource implements KeyMaterial {
    /** Per live generation, the key and secret as one JSON value (for the stores). */
    readonly values: ReadonlyMap<number, pulumi.Output<string>>;
    private readonly plan: PlanOf<ApiKeySecretSpec>;
    private readonly keyOf: (generation: number) => ExchangeKey;

    constructor(name: string, args: ApiKeyCredentialArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("apikey", "ApiKeyCredential"), name, {}, formerly("titan-secrets:apikey:Credential", opts));
        this.plan = args.plan;
        this.keyOf = args.keyOf;
        this.values = new Map(
            args.plan.view.live.map((g) => {
                const k = args.keyOf(g);
                return [
                    g,
                    pulumi.secret(
                        pulumi.all([k.apiKey, k.apiSecret]).apply(([apiKey, apiSecret]) => JSON.stringify({ apiKey, apiSecret })),
                    ),
                ] as const;
            }),
        );
        this.registerOutputs({});
    }

    dataFor(role: Role): Record<string, pulumi.Output<string> | string> {
        if (role === "verifier") return {};
        const g = this.plan.view.presenter.generations[0];
        const base = this.plan.spec.exchange.replace(/-/g, "_");
        const k = this.keyOf(g);
        return { [`${base}_api_key`]: pulumi.secret(k.apiKey), [`${base}_api_secret`]: pulumi.secret(k.apiSecret) };
    }
}
