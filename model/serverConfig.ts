// Config files for in-cluster servers that verify passwords. The program owns
// them: during `overlap` the user can log in with the old and the new
// credential, at `stable` only with the one. Pure string rendering; the
// component feeds it secret Outputs and the result stays a secret.

import { createHash } from "node:crypto";

/** One credential the server accepts. */
export interface ServerCredential {
    generation: number;
    username: string;
    /** Redis: the plaintext password (the file holds only its SHA-256). NATS: a bcrypt hash. */
    secret: string;
}

/**
 * Redis ACL file (`redis-server --aclfile`): one user with a password per live
 * generation, stored as `#<sha256>` so the file never holds a password. The
 * default user is switched off. (An ACL file takes no comments: the Secret
 * object's annotations say which generations it holds.)
 */
export function renderRedisAcl(username: string, permissions: string, creds: ServerCredential[]): string {
    const hashes = creds.map((c) => `#${createHash("sha256").update(c.secret).digest("hex")}`);
    return ["user default off", `user ${username} on ${hashes.join(" ")} ${permissions}`, ""].join("\n");
}

/**
 * NATS server config: one user per live generation (NATS cannot give one
 * user two passwords), same permissions, bcrypt-hashed passwords.
 */
export function renderNatsConfig(secretName: string, port: number, permissions: string, creds: ServerCredential[]): string {
    const perm = JSON.stringify(permissions);
    const users = creds.map(
        (c) =>
            `    { user: ${JSON.stringify(c.username)}, password: ${JSON.stringify(c.secret)}, permissions: { publish: ${perm}, subscribe: ${perm} } }`,
    );
    return [
        `# Rendered by titan-secrets for ${secretName}: generations ${creds.map((c) => `g${c.generation}`).join(", ")}. Do not edit.`,
        `port: ${port}`,
        "authorization {",
        "  users = [",
        ...users,
        "  ]",
        "}",
        "",
    ].join("\n");
}

/** The user name a generation logs in with: NATS has one user per generation. */
export function usernameFor(backendType: string, username: string, generation: number): string {
    return backendType === "nats" ? `${username}-g${generation}` : username;
}

/**
 * Config text that is written into a server's own config file is checked
 * against that server's grammar first: a Redis `permissions` value with a
 * newline would add a second, passwordless user to the ACL file, and
 * `nopass` would drop the password. Only rules that grant or limit access
 * (keys, channels, commands) are allowed; nothing that touches passwords or
 * switches the user on or off.
 */
const REDIS_RULE =
    /^(?:(?:~|%(?:R|W|RW)~)[\x21-\x7e]+|&[\x21-\x7e]+|[+-]@?[A-Za-z0-9_|-]+|allkeys|resetkeys|allchannels|resetchannels|allcommands|nocommands)$/;
/** A NATS subject: dot-separated tokens of letters, digits, '_' and '-', `*` for one token, `>` for the rest. */
const NATS_SUBJECT = /^(?:(?:[A-Za-z0-9_-]+|\*)\.)*(?:[A-Za-z0-9_-]+|\*|>)$/;

export function checkServerConfig(
    b: { type: "redis" | "nats"; permissions: string },
    at: (...path: string[]) => string,
): { key: string; found: string; allowed: string }[] {
    if (b.type === "redis") {
        const bad = b.permissions.split(" ").filter((rule) => !REDIS_RULE.test(rule));
        if (bad.length === 0) return [];
        return [
            {
                key: at("permissions"),
                found: `the rule(s) ${bad.map((r) => JSON.stringify(r)).join(", ")}${/[\r\n\t]/.test(b.permissions) ? " (with a line break or tab, which would start another ACL line)" : ""}`,
                allowed:
                    "Redis ACL rules separated by single spaces that grant or limit access: ~pattern, %R~pattern, %W~pattern, %RW~pattern, &pattern, +command, -command, +@category, -@category, allkeys, allchannels, allcommands, nocommands, resetkeys, resetchannels (no password, on/off or reset rules: the program owns those)",
            },
        ];
    }
    if (NATS_SUBJECT.test(b.permissions)) return [];
    return [
        {
            key: at("permissions"),
            found: JSON.stringify(b.permissions),
            allowed:
                "one NATS subject: tokens of letters, digits, '_' and '-' separated by '.', '*' for a whole token, '>' as the last token",
        },
    ];
}
