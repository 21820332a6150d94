// What each role of a secret receives in its pods: environment variables
// read from its Secret object, files mounted from it, and plain variables
// that point at those files (the `*_FILE` convention of docs/runbook.md section 2,
// read at start-up by loadSecretsFromFiles()).

import { SecretSpec, Role } from "./types";

export interface DeliveredFile {
    /** Key in the role's Secret object. */
    key: string;
    /** Absolute path in the container. */
    path: string;
}

export interface Delivery {
    /** Variables whose value comes from the Secret object key of the same name. */
    secretEnv: string[];
    /** Files mounted from the Secret object (mode 0400). */
    files: DeliveredFile[];
    /** Plain variables: where the files are. */
    plainEnv: Record<string, string>;
}

/** Where presenters find service credentials. */
export const SECRETS_DIR = "/run/secrets";

/** Server config the program renders for in-cluster verifiers. */
export const SERVER_CONFIG = {
    redis: { key: "users.acl", path: "/etc/redis/users.acl", env: "REDIS_ACL_FILE" },
    nats: { key: "nats.conf", path: "/etc/nats/nats.conf", env: "NATS_CONFIG_FILE" },
} as const;

/**
 * Everything a role may receive (an HMAC secondary only exists while one is
 * live; the component delivers the keys present in the data).
 */
export function deliveryFor(s: SecretSpec, role: Role): Delivery {
    if (s.kind === "hmac") {
        const p = s.envPrefix;
        const secretEnv =
            role === "verifier"
                ? [`${p}_SECRET_PRIMARY`, `${p}_SECRET_SECONDARY`, `${p}_KEY_ID`, `${p}_KEY_ID_SECONDARY`]
                : [`${p}_SECRET_PRIMARY`, `${p}_KEY_ID`];
        return { secretEnv, files: [], plainEnv: {} };
    }
    if (s.kind === "apiKey") {
        if (role === "verifier") return { secretEnv: [], files: [], plainEnv: {} }; // the exchange verifies
        const base = s.exchange!.replace(/-/g, "_");
        const files = ["api_key", "api_secret"].map((what) => ({ key: `${base}_${what}`, path: `${SECRETS_DIR}/${base}_${what}` }));
        return { secretEnv: [], files, plainEnv: Object.fromEntries(files.map((f) => [`${f.key.toUpperCase()}_FILE`, f.path])) };
    }
    const b = s.backend!;
    if (role === "presenter") {
        const files = ["password", "username"].map((what) => ({ key: `${b.file}_${what}`, path: `${SECRETS_DIR}/${b.file}_${what}` }));
        const plainEnv = Object.fromEntries(files.map((f) => [`${f.key.toUpperCase()}_FILE`, f.path]));
        return { secretEnv: [], files, plainEnv };
    }
    if (b.type === "redis" || b.type === "nats") {
        const c = SERVER_CONFIG[b.type];
        return { secretEnv: [], files: [{ key: c.key, path: c.path }], plainEnv: { [c.env]: c.path } };
    }
    return { secretEnv: [], files: [], plainEnv: {} }; // rds, elasticache: the AWS resource verifies
}
