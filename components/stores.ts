// Stores of record: HashiCorp Vault KV v2 and AWS Secrets Manager, each
// switched on per stack. Values go in through write-only inputs, so they are
// never kept in Pulumi state; metadata (generation, stage, key IDs) is plain.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { SecretPlan, SecretsManagerStoreSpec, Stage, VaultStoreSpec } from "../model";

const STAGE_CODE: Record<Stage, number> = { stable: 0, overlap: 1, revert: 2, compromised: 3 };

/** Changes whenever the stored content (current and previous value) does. */
export function contentVersion(generation: number, stage: Stage): number {
    return generation * 4 + STAGE_CODE[stage];
}

/** The generation presenters use (current) and the other live one (previous). */
export function currentAndPrevious(plan: SecretPlan): { current: number; previous?: number } {
    const current = plan.view.presenter.generations[0];
    return { current, previous: plan.view.live.find((g) => g !== current) };
}

export interface StoreArgs {
    plan: SecretPlan;
    /** The value of each live generation (a secret Output). */
    values: ReadonlyMap<number, pulumi.Output<string>>;
}

export class VaultRecord extends pulumi.ComponentResource {
    readonly secret: vault.kv.SecretV2;

    constructor(
        name: string,
        args: StoreArgs & { store: VaultStoreSpec; provider: vault.Provider },
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("titan-secrets:stores:VaultRecord", name, {}, opts);
        const { plan, values, store } = args;
        const { current, previous } = currentAndPrevious(plan);
        const keyId = (g: number) => plan.entry.keys.find((k) => k.generation === g)!.keyId;
        const data = pulumi
            .all({ current: values.get(current)!, previous: previous !== undefined ? values.get(previous)! : pulumi.output(undefined) })
            .apply(({ current: c, previous: p }) =>
                JSON.stringify({
                    current: c,
                    currentKeyId: keyId(current),
                    ...(previous !== undefined ? { previous: p, previousKeyId: keyId(previous) } : {}),
                }),
            );
        this.secret = new vault.kv.SecretV2(
            name,
            {
                mount: store.mount,
                name: `${store.path}/${plan.spec.name}`,
                dataJsonWo: pulumi.secret(data),
                dataJsonWoVersion: contentVersion(plan.spec.generation, plan.spec.stage),
                customMetadata: {
                    data: {
                        generation: String(plan.spec.generation),
                        stage: plan.spec.stage,
                        keyId: keyId(current),
                        ...(previous !== undefined ? { previousKeyId: keyId(previous) } : {}),
                        managedBy: "titan-secrets",
                    },
                },
            },
            { parent: this, provider: args.provider },
        );
        this.registerOutputs({});
    }
}

export class SecretsManagerRecord extends pulumi.ComponentResource {
    readonly secret: aws.secretsmanager.Secret;
    readonly versions = new Map<number, aws.secretsmanager.SecretVersion>();

    constructor(
        name: string,
        args: StoreArgs & { store: SecretsManagerStoreSpec; provider: aws.Provider },
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("titan-secrets:stores:SecretsManagerRecord", name, {}, opts);
        const { plan, values, store } = args;
        const { current, previous } = currentAndPrevious(plan);
        const withProvider = { parent: this, provider: args.provider };
        this.secret = new aws.secretsmanager.Secret(
            name,
            {
                name: `${store.prefix}${plan.spec.name}`,
                kmsKeyId: store.kmsKeyId,
                description: `titan-secrets: ${plan.spec.kind} ${plan.spec.name}`,
                tags: { "managed-by": "titan-secrets", generation: String(plan.spec.generation), stage: plan.spec.stage },
            },
            withProvider,
        );
        // One version per live generation; the staging labels carry the
        // model: AWSCURRENT on what presenters use, AWSPREVIOUS on the other.
        // The current one is written after the previous one has given up
        // its label, so AWSCURRENT is never on two versions in one request.
        const labelled = previous !== undefined ? [previous, current] : [current];
        let before: pulumi.Resource | undefined;
        for (const g of labelled) {
            const version = new aws.secretsmanager.SecretVersion(
                `${name}-g${g}`,
                {
                    secretId: this.secret.id,
                    secretStringWo: values.get(g)!,
                    secretStringWoVersion: 1, // a generation's value never changes
                    versionStages: [g === current ? "AWSCURRENT" : "AWSPREVIOUS"],
                },
                { ...withProvider, dependsOn: before ? [before] : [] },
            );
            this.versions.set(g, version);
            before = version;
        }
        this.registerOutputs({});
    }
}
