// PasswordCredential: a service credential (database, Redis, NATS). One
// RandomPassword per live generation; presenters get files under
// /run/secrets; the verifier is either a server in the cluster (the program
// renders its Redis ACL file or NATS config) or an AWS resource whose
// password the program sets (RDS master password, ElastiCache auth token).

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PasswordSecretSpec, Role, ServerCredential, renderNatsConfig, renderRedisAcl, usernameFor } from "../model";
import { KeyMaterial, PlanOf, formerly, typeToken } from "./keyMaterial";

export interface PasswordCredentialArgs {
    plan: PlanOf<PasswordSecretSpec>;
    /** Required for `rds` and `elasticache` backends. */
    awsProvider?: aws.Provider;
}

/** Letters and digits only: accepted by RDS (which forbids / " @ and space), ElastiCache, Redis ACL and NATS. */
export function passwordArgs(length: number): random.RandomPasswordArgs {
    return { length, special: false, upper: true, lower: true, numeric: true, minUpper: 1, minLower: 1, minNumeric: 1 };
}

/**
 * A version for write-only inputs: it changes exactly when what the AWS
 * resource must hold changes (its primary, and whether a second is kept).
 */
export function writeOnlyVersion(generations: number[]): number {
    return generations[0] * 2 + (generations.length > 1 ? 0 : 1);
}

export class PasswordCredential extends pulumi.ComponentResource implements KeyMaterial {
    readonly values: ReadonlyMap<number, pulumi.Output<string>>;
    /** The AWS resource that verifies the password, for presenters to wait on. */
    readonly backendResource?: pulumi.CustomResource;
    private readonly bcrypt = new Map<number, pulumi.Output<string>>();
    private readonly plan: PlanOf<PasswordSecretSpec>;

    constructor(name: string, args: PasswordCredentialArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("password", "PasswordCredential"), name, {}, formerly("titan-secrets:password:Credential", opts));
        this.plan = args.plan;
        const { spec, view } = args.plan;
        const passwords = new Map<number, pulumi.Output<string>>();
        for (const generation of view.live) {
            const pw = new random.RandomPassword(`${name}-g${generation}`, passwordArgs(spec.length), { parent: this });
            passwords.set(generation, pulumi.secret(pw.result));
            this.bcrypt.set(generation, pulumi.secret(pw.bcryptHash));
        }
        this.values = passwords;

        const b = spec.backend;
        const held = view.verifier.generations;
        if (b.type === "rds" || b.type === "elasticache") {
            if (!args.awsProvider) throw new Error(`PasswordCredential ${name}: an ${b.type} backend needs the AWS provider`);
            const common = { parent: this, provider: args.awsProvider, import: b.identifier, retainOnDelete: true };
            if (b.type === "rds") {
                // Adopts the existing instance and changes only its master
                // password: write-only, so the value never enters state.
                this.backendResource = new aws.rds.Instance(
                    `${name}-rds`,
                    {
                        identifier: b.identifier,
                        instanceClass: b.instanceClass!,
                        username: b.username,
                        passwordWo: this.password(held[0]),
                        passwordWoVersion: writeOnlyVersion(held),
                        applyImmediately: true,
                    },
                    { ...common, ignoreChanges: RDS_IGNORED },
                );
            } else {
                // Two tokens at once: ROTATE adds the new one beside the old,
                // SET leaves only the new one (stable, compromised).
                this.backendResource = new aws.elasticache.ReplicationGroup(
                    `${name}-elasticache`,
                    {
                        replicationGroupId: b.identifier,
                        description: `titan-secrets: ${name}`,
                        authTokenWo: this.password(held[0]),
                        authTokenWoVersion: writeOnlyVersion(held),
                        authTokenUpdateStrategy: held.length > 1 ? "ROTATE" : "SET",
                        applyImmediately: true,
                    },
                    { ...common, ignoreChanges: ELASTICACHE_IGNORED },
                );
            }
        }
        this.registerOutputs({});
    }

    /** Secret object data for a role: presenters' files, or the server's config. */
    dataFor(role: Role): Record<string, pulumi.Output<string> | string> {
        const { spec, view } = this.plan;
        const b = spec.backend;
        const held = view[role].generations;
        if (role === "presenter") {
            return { [`${b.file}_password`]: this.password(held[0]), [`${b.file}_username`]: usernameFor(b.type, b.username, held[0]) };
        }
        if (b.type === "redis") {
            const creds = held.map((g) => this.password(g).apply((secret) => ({ generation: g, username: b.username, secret })));
            return {
                "users.acl": pulumi.secret(
                    pulumi.all(creds).apply((c: ServerCredential[]) => renderRedisAcl(b.username, b.permissions, c)),
                ),
            };
        }
        if (b.type === "nats") {
            const creds = held.map((g) =>
                this.bcryptOf(g).apply((secret) => ({ generation: g, username: usernameFor("nats", b.username, g), secret })),
            );
            return {
                "nats.conf": pulumi.secret(
                    pulumi.all(creds).apply((c: ServerCredential[]) => renderNatsConfig(spec.name, b.port, b.permissions, c)),
                ),
            };
        }
        return {};
    }

    private password(generation: number): pulumi.Output<string> {
        const pw = this.values.get(generation);
        if (pw === undefined) throw new Error(`PasswordCredential ${this.plan.spec.name}: generation ${generation} is not live`);
        return pw;
    }

    private bcryptOf(generation: number): pulumi.Output<string> {
        return this.bcrypt.get(generation)!;
    }
}

/** Everything of an adopted RDS instance but its master password. */
const RDS_IGNORED = [
    "allocatedStorage",
    "allowMajorVersionUpgrade",
    "autoMinorVersionUpgrade",
    "availabilityZone",
    "backupRetentionPeriod",
    "backupWindow",
    "caCertIdentifier",
    "copyTagsToSnapshot",
    "dbName",
    "dbSubnetGroupName",
    "deletionProtection",
    "engine",
    "engineVersion",
    "iamDatabaseAuthenticationEnabled",
    "instanceClass",
    "iops",
    "kmsKeyId",
    "maintenanceWindow",
    "maxAllocatedStorage",
    "monitoringInterval",
    "multiAz",
    "optionGroupName",
    "parameterGroupName",
    "performanceInsightsEnabled",
    "port",
    "publiclyAccessible",
    "skipFinalSnapshot",
    "storageEncrypted",
    "storageType",
    "tags",
    "username",
    "vpcSecurityGroupIds",
];

/** Everything of an adopted ElastiCache replication group but its auth token. */
const ELASTICACHE_IGNORED = [
    "atRestEncryptionEnabled",
    "automaticFailoverEnabled",
    "description",
    "engine",
    "engineVersion",
    "maintenanceWindow",
    "multiAzEnabled",
    "nodeType",
    "numCacheClusters",
    "parameterGroupName",
    "port",
    "securityGroupIds",
    "snapshotRetentionLimit",
    "snapshotWindow",
    "subnetGroupName",
    "tags",
    "transitEncryptionEnabled",
];
