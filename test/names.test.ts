// Names that cannot collide or vanish, and Kubernetes' rules checked at
// config time (issue 23, classes 3 and 4): each bad config is refused by
// parseConfig, before any resource, with the key, what was found and what
// is allowed.

import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
    CONFIG_SECTIONS,
    ConfigError,
    KEY_ID,
    KeyRingSecrets,
    RawConfig,
    Ledger,
    checkExchangeKeys,
    freshKeyId,
    parseConfig,
    planRotation,
    presenceOf,
    rawConfigFrom,
} from "../model";
import { FLEET_SECRET, fleetStackConfigs } from "../harness/fleet";
import { TITAN_SERVICES, hmac, titanConfig } from "./support/fleet";

/** The sentences of the ConfigError parseConfig throws. */
function refused(raw: RawConfig, stack = "dev", keyRing?: KeyRingSecrets): string[] {
    try {
        parseConfig(raw, stack, keyRing);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues.map((i) => `${i.key}: found ${i.found}; allowed: ${i.allowed}`);
    }
    throw new Error("not refused");
}
const accepted = (raw: RawConfig, stack = "dev") => expect(() => parseConfig(raw, stack)).not.toThrow();
/** A config as the stack file gives it (JSON, so `__proto__` is an own key, as YAML and Pulumi give it). */
const fromJson = (raw: RawConfig): RawConfig => JSON.parse(JSON.stringify(raw).replace(/"RESERVED"/g, '"__proto__"')) as RawConfig;
const T0 = new Date("2026-11-01T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const RESERVED = "any name but __proto__, constructor, prototype (JavaScript reserves them";

describe("3. the names JavaScript reserves are refused in every map and list of the config", () => {
    it.each([
        ["a secret", titanConfig({ k: hmac(1, "stable"), RESERVED: hmac(1, "stable") }), "titan-secrets:secrets.__proto__"],
        [
            "a service",
            titanConfig({ k: hmac(1, "stable") }, { ...TITAN_SERVICES, RESERVED: { image: "x" } }),
            "titan-secrets:services.__proto__",
        ],
        [
            "an env key",
            titanConfig({ k: hmac(1, "stable") }, { ...TITAN_SERVICES, "titan-brain": { image: "x", env: { RESERVED: "1" } } }),
            "titan-secrets:services.titan-brain.env.__proto__",
        ],
        [
            "a label key",
            { ...titanConfig({ k: hmac(1, "stable") }), monitoring: { labels: { RESERVED: "x" } } },
            "titan-secrets:monitoring.labels.__proto__",
        ],
    ])("__proto__ as %s (it vanished before)", (_what, raw, key) => {
        expect(refused(fromJson(raw))).toContain(
            `${key}: found the name "__proto__"; allowed: ${RESERVED}: the entry would vanish or shadow a built-in)`,
        );
    });

    it("constructor and prototype too, in maps and in lists of names", () => {
        const issues = refused({
            ...titanConfig(
                { k: hmac(1, "stable"), constructor: hmac(1, "stable", { envPrefix: "C" }) },
                {
                    ...TITAN_SERVICES,
                    prototype: { image: "x" },
                },
            ),
            removeSecrets: ["constructor"],
        });
        expect(issues).toContain(
            `titan-secrets:secrets.constructor: found the name "constructor"; allowed: ${RESERVED}: the entry would vanish or shadow a built-in)`,
        );
        expect(issues.join("\n")).toContain('titan-secrets:services.prototype: found the name "prototype"');
        expect(issues.join("\n")).toContain(`titan-secrets:removeSecrets[0]: found "constructor"; allowed: ${RESERVED}`);
    });

    it("in exchangeKeys, read apart as secrets (only which fields are there)", () => {
        const spec = parseConfig(titanConfig({ k: hmac(1, "stable") }));
        const present = presenceOf(JSON.parse('{"__proto__": {"g1": {"apiKey": "v"}}, "b": {"constructor": {"apiSecret": "v"}}}'));
        expect(checkExchangeKeys(spec, present, true).map((i) => `${i.key}: found ${i.found}`)).toEqual([
            'titan-secrets:exchangeKeys.__proto__.g1.apiKey: found the name "__proto__"',
            'titan-secrets:exchangeKeys.b.constructor.apiSecret: found the name "constructor"',
        ]);
    });

    it("in a fleet: a cluster, a key ring and a consumers entry", () => {
        const keys = { "titan-secrets:fleet": { role: "keys", clusters: ["eu", "constructor"] }, "titan-secrets:secrets": {} };
        expect(refused(rawConfigFrom(keys), "keys")).toContain(
            `titan-secrets:fleet.clusters[1]: found "constructor"; allowed: ${RESERVED}: the entry would vanish or shadow a built-in)`,
        );
        const configs = fleetStackConfigs({ eu: { renderDir: "r" }, us: { renderDir: "r" } });
        const ring = configs.keys(1, "stable")["titan-secrets:secrets"] as KeyRingSecrets;
        const eu = JSON.parse(
            JSON.stringify({ ...configs.eu, "titan-secrets:consumers": { RESERVED: { verifiers: [], presenters: [] } } }).replace(
                /"RESERVED"/g,
                '"__proto__"',
            ),
        ) as Record<string, unknown>;
        expect(refused(rawConfigFrom(eu), "eu", ring)).toContain(
            `titan-secrets:consumers.__proto__: found the name "__proto__"; allowed: ${RESERVED}: the entry would vanish or shadow a built-in)`,
        );
        // The key stack's own secrets pass through one more step (consumers added): __proto__ survives it to be refused.
        const keyRing = JSON.parse(
            JSON.stringify({
                "titan-secrets:fleet": { role: "keys", clusters: ["eu"] },
                "titan-secrets:secrets": { RESERVED: ring[FLEET_SECRET] },
            }).replace(/"RESERVED"/g, '"__proto__"'),
        ) as Record<string, unknown>;
        expect(refused(rawConfigFrom(keyRing), "keys").join("\n")).toContain('titan-secrets:secrets.__proto__: found the name "__proto__"');
    });

    /** Every schema node under `schema`, with its path (records, arrays, objects, unions, wrappers). */
    function walk(schema: z.ZodType, path: string, visit: (s: z.ZodType, path: string, parent?: z.ZodType) => void, parent?: z.ZodType) {
        visit(schema, path, parent);
        const def = schema._zod.def as unknown as Record<string, unknown>;
        if (schema instanceof z.ZodObject)
            for (const [k, v] of Object.entries(schema.shape)) walk(v as z.ZodType, `${path}.${k}`, visit, schema);
        else if (schema instanceof z.ZodRecord) {
            walk(def.keyType as z.ZodType, `${path}[key]`, visit, schema);
            walk(def.valueType as z.ZodType, `${path}[value]`, visit, schema);
        } else if (schema instanceof z.ZodArray) walk(def.element as z.ZodType, `${path}[]`, visit, schema);
        else if (schema instanceof z.ZodDiscriminatedUnion || schema instanceof z.ZodUnion)
            (def.options as z.ZodType[]).forEach((o, i) => walk(o, `${path}|${i}`, visit, schema));
        else if (schema instanceof z.ZodPipe) walk(def.out as z.ZodType, path, visit, schema);
        else if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) walk(def.innerType as z.ZodType, path, visit, parent);
    }

    it("every map of the schema checks its input's own keys (nameMap), so a new map cannot forget it", () => {
        const bare: string[] = [];
        let records = 0;
        for (const [section, schema] of Object.entries(CONFIG_SECTIONS)) {
            walk(schema, section, (s, path, parent) => {
                if (!(s instanceof z.ZodRecord)) return;
                records++;
                if (!(parent instanceof z.ZodPipe && parent._zod.def.in instanceof z.ZodTransform)) bare.push(path);
                else expect(parent.safeParse(JSON.parse('{"__proto__": 1}')).success, path).toBe(false);
            });
        }
        expect(records).toBeGreaterThanOrEqual(8);
        expect(bare).toEqual([]);
    });

    it("every string of the schema refuses control characters (free text cannot forge a line of output)", () => {
        const open: string[] = [];
        let strings = 0;
        for (const [section, schema] of Object.entries(CONFIG_SECTIONS)) {
            if (section === "exchangeKeys") continue; // secure values, read apart (exchangeKeys.ts); its names are walked below
            walk(schema, section, (s, path) => {
                if (!(s instanceof z.ZodString)) return;
                strings++;
                const lineBreaksAllowed = path === "kubernetes.kubeconfig"; // a kubeconfig's contents are YAML
                for (const bad of lineBreaksAllowed ? ["a\u0007b", "a\u202eb"] : ["a\nb", "a\u2028b", "a\u202eb", "a\u0000b", "ab\r"])
                    if (s.safeParse(bad).success) open.push(`${path} ${JSON.stringify(bad)}`);
            });
        }
        walk(CONFIG_SECTIONS.exchangeKeys, "exchangeKeys", (s, path) => {
            if (s instanceof z.ZodString && path.endsWith("[key]") && s.safeParse("a\nb").success) open.push(path);
        });
        expect(strings).toBeGreaterThanOrEqual(40);
        expect(open).toEqual([]);
    });

    it("a newline in incident is refused (it printed its own warning: line)", () => {
        expect(refused(titanConfig({ k: hmac(2, "compromised", { incident: "INC-1\nwarning: all clear" }) }))).toContain(
            'titan-secrets:secrets.k.incident: found "INC-1\\nwarning: all clear"; allowed: text without control characters (no line breaks, tabs or invisible formatting characters)',
        );
        accepted(titanConfig({ k: hmac(2, "compromised", { incident: "INC-1 (pager)" }) }));
    });
});

describe("3. a name never forges a line of the message", () => {
    it("a line break in a map key is quoted in the key the error names", () => {
        let message = "";
        try {
            parseConfig(titanConfig({ k: hmac(1, "stable"), "x\nwarning: all clear": hmac(1, "stable", { envPrefix: "X" }) }));
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toContain('titan-secrets:secrets["x\\nwarning: all clear"]: found the secret name "x\\nwarning: all clear"');
        expect(message.split("\n").filter((line) => line.startsWith("warning:"))).toEqual([]);
    });
});

describe("3. key IDs name one key across the stack", () => {
    const y = (extra: Record<string, unknown>, generation = 1, stage = "stable") => hmac(generation, stage, { envPrefix: "Y", ...extra });

    it("another secret's default key ID is refused, at its generation or any other", () => {
        expect(refused(titanConfig({ x: hmac(2, "stable"), y: y({ keyId: "x-g2" }) }))).toContain(
            'titan-secrets:secrets.y.keyId: found "x-g2", the key ID of secret "x" (its keyId "x-g2", compared ignoring case); allowed: a key ID that no other secret of the stack uses: a key ID names one key (verifiers pick the key by it)',
        );
        // x is at generation 1: x-g2 is the key x makes at its next rotation.
        expect(refused(titanConfig({ x: hmac(1, "stable"), y: y({ keyId: "x-g2" }) }))).toContain(
            'titan-secrets:secrets.y.keyId: found "x-g2", which is the default key ID of secret "x" at generation 2; allowed: a key ID outside every other secret\'s defaults (<secret>-g<N>): x has, had or will have that one',
        );
    });

    it("compared ignoring case, previous key IDs included", () => {
        expect(refused(titanConfig({ x: hmac(2, "stable"), y: y({ keyId: "X-G2" }) })).join("\n")).toContain(
            'titan-secrets:secrets.y.keyId: found "X-G2", the key ID of secret "x"',
        );
        const both = titanConfig({
            x: hmac(2, "overlap", { keyId: "brain-2026b", previousKeyId: "brain-2026a" }),
            y: y({ keyId: "BRAIN-2026A" }),
        });
        expect(refused(both).join("\n")).toContain(
            'titan-secrets:secrets.y.keyId: found "BRAIN-2026A", the key ID of secret "x" (its previousKeyId "brain-2026a"',
        );
        expect(refused(titanConfig({ x: hmac(2, "overlap", { keyId: "K1", previousKeyId: "k1" }) })).join("\n")).toContain(
            'titan-secrets:secrets.x.keyId: found "K1" for both generations (previousKeyId "k1", compared ignoring case)',
        );
        accepted(titanConfig({ x: hmac(2, "stable"), y: y({ keyId: "y-2026" }) }));
    });

    it("another secret's fresh form (<secret>-g<N>-<i>, for a generation that comes back) is its too", () => {
        expect(refused(titanConfig({ x: hmac(2, "stable"), y: y({ keyId: "x-g3-2" }) }))).toContain(
            'titan-secrets:secrets.y.keyId: found "x-g3-2", which is the default key ID of secret "x" at generation 3; allowed: a key ID outside every other secret\'s defaults (<secret>-g<N>): x has, had or will have that one',
        );
    });

    it("a retired key ID is not given to a new key in another case", () => {
        const ledger = (keyId: string) => {
            let l: Ledger = {};
            const steps: [RawConfig, Date][] = [
                [titanConfig({ k: hmac(2, "stable", { keyId: "K-2026" }) }), T0],
                [titanConfig({ k: hmac(3, "overlap", { keyId: "k-2026b", previousKeyId: "K-2026" }) }), hours(30)],
                [titanConfig({ k: hmac(3, "stable", { keyId: "k-2026b" }) }), hours(60)],
            ];
            for (const [raw, now] of steps) l = planRotation(parseConfig(raw), l, now).ledger;
            return () =>
                planRotation(parseConfig(titanConfig({ k: hmac(4, "overlap", { keyId, previousKeyId: "k-2026b" }) })), l, hours(90));
        };
        expect(ledger("k-2026")).toThrow(
            'titan-secrets:secrets.k.keyId: found "k-2026" for the new key of generation 4, but that key ID named a key that has been retired',
        );
        expect(ledger("k-2026c")).not.toThrow();
        expect(freshKeyId("k", 3, ["K-G3"])).toBe("k-g3-2");
    });

    it("the charset is one a header value and a file name can hold", () => {
        for (const bad of ["a b", "a\tb", "a/b", "../x", ".x", "a\u00e9", "a".repeat(64)]) {
            expect(KEY_ID.test(bad), bad).toBe(false);
            expect(refused(titanConfig({ x: hmac(1, "stable", { keyId: bad }) })).join("\n")).toContain(
                "titan-secrets:secrets.x.keyId: found ",
            );
        }
        expect(KEY_ID.test("brain-2026.b_1")).toBe(true);
    });
});

describe("3. a key stack's clusters", () => {
    const keys = (clusters: string[]) => rawConfigFrom({ "titan-secrets:fleet": { role: "keys", clusters }, "titan-secrets:secrets": {} });

    it("names each cluster once, whatever the form", () => {
        expect(refused(keys(["eu", "us", "eu"]), "keys")).toContain(
            "titan-secrets:fleet.clusters[2]: found \"eu\" twice (also fleet.clusters[0]); allowed: each cluster's stack once, under names that stay distinct when '/' becomes '-'",
        );
        expect(refused(keys(["org/eu", "org-eu"]), "keys")).toContain(
            "titan-secrets:fleet.clusters[1]: found \"org-eu\", which becomes the same resource name as \"org/eu\" (fleet.clusters[0]): fleet-org-eu; allowed: each cluster's stack once, under names that stay distinct when '/' becomes '-'",
        );
        expect(refused(keys(["eu", "acme/titan-secrets/eu"]), "keys").join("\n")).toContain(
            'titan-secrets:fleet.clusters[1]: found "acme/titan-secrets/eu", which may name the same stack as "eu" (fleet.clusters[0])',
        );
        expect(() => parseConfig(keys(["acme/titan-secrets/eu", "beta/titan-secrets/eu", "acme/other/eu"]), "keys")).not.toThrow();
    });

    it("never lists itself (nor does a cluster follow itself)", () => {
        expect(refused(keys(["eu", "keys"]), "keys")).toContain(
            'titan-secrets:fleet.clusters[1]: found "keys", this stack itself (the key stack); allowed: the workload stacks (fleet.role workloads) of the clusters that follow this key ring; the key stack declares no workload',
        );
        expect(refused(keys(["eu", "acme/titan-secrets/keys"]), "keys").join("\n")).toContain(
            'fleet.clusters[1]: found "acme/titan-secrets/keys", this stack itself',
        );
        const configs = fleetStackConfigs({ eu: { renderDir: "r" }, us: { renderDir: "r" } });
        const ring = configs.keys(1, "stable")["titan-secrets:secrets"] as KeyRingSecrets;
        const eu = { ...configs.eu, "titan-secrets:fleet": { role: "workloads", keyRing: "eu" } };
        expect(refused(rawConfigFrom(eu), "eu", ring)).toContain(
            'titan-secrets:fleet.keyRing: found "eu", this stack itself; allowed: the key stack (fleet.role keys) this cluster follows, another stack',
        );
    });
});

describe("4. Kubernetes names and labels, checked at config time", () => {
    const k = () => ({ k: hmac(1, "stable") });

    it("a namespace longer than a label", () => {
        expect(refused({ ...titanConfig(k()), kubernetes: { namespace: "n".repeat(64) } })).toContain(
            `titan-secrets:kubernetes.namespace: found "${"n".repeat(64)}"; allowed: at most 63 characters`.replace(
                `"${"n".repeat(64)}"`,
                "a 64-character string",
            ),
        );
        accepted({ ...titanConfig(k()), kubernetes: { namespace: "n".repeat(63) } });
    });

    it("an HMAC envPrefix whose variables, the keys of its Secret object's data, would pass 253 characters", () => {
        const prefix = (n: number) => titanConfig({ k: hmac(2, "overlap", { envPrefix: "P".repeat(n) }) });
        expect(refused(prefix(237))).toContain(
            "titan-secrets:secrets.k.envPrefix: found a 237-character string; allowed: at most 236 characters",
        );
        accepted(prefix(236)); // P..._SECRET_SECONDARY and P..._KEY_ID_SECONDARY are 253
    });

    it("a StatefulSet whose controller-revision-hash label (<name>-<hash>) would pass 63 characters", () => {
        const long = "s".repeat(53);
        const services = (name: string) => ({ ...TITAN_SERVICES, [name]: { image: "redis:7", workload: "StatefulSet" } });
        expect(refused(titanConfig(k(), services(long)))).toContain(
            `titan-secrets:services.${long}: found the service name "${long}" (53 characters) for a StatefulSet; allowed: at most 52 characters for a StatefulSet: its controller labels each pod controller-revision-hash: <name>-<hash of up to 10 characters>, and a label value holds 63`,
        );
        accepted(titanConfig(k(), services("s".repeat(52))));
        accepted(titanConfig(k(), { ...TITAN_SERVICES, [long]: { image: "x" } })); // a Deployment's label is the hash alone
    });

    it("an object the program builds from a secret's name, under its limit (a Job's name becomes a label)", () => {
        const name = "a".repeat(60);
        const apiKey = {
            kind: "apiKey",
            exchange: "bybit",
            generation: 2,
            stage: "overlap",
            verifiers: [],
            presenters: ["titan-brain"],
            verification: { image: "v", command: ["v"] },
        };
        expect(refused(titanConfig({ [name]: apiKey }))).toContain(
            `titan-secrets:secrets.${name}: found a name that makes the verification Job "verify-${name}-g2": 70 characters, over Kubernetes' 63; allowed: a secret name whose objects Kubernetes accepts (an RFC 1123 label of at most 63 characters)`,
        );
    });

    it("label keys and values by Kubernetes' rules, and never the program's own label", () => {
        const labels = (l: Record<string, string>) => ({ ...titanConfig(k()), monitoring: { labels: l } });
        expect(refused(labels({ "my label": "x" })).join("\n")).toContain(
            'titan-secrets:monitoring.labels["my label"]: found "my label"; allowed: keys that are a label key: an optional DNS subdomain prefix',
        );
        expect(refused(labels({ "Example.com/x": "x" })).join("\n")).toContain('monitoring.labels["Example.com/x"]: found "Example.com/x"');
        expect(refused(labels({ release: "v".repeat(64) })).join("\n")).toContain(
            "titan-secrets:monitoring.labels.release: found a 64-character string; allowed: a label value: empty, or at most 63 letters",
        );
        expect(refused(labels({ "app.kubernetes.io/managed-by": "helm" }))).toContain(
            'titan-secrets:monitoring.labels["app.kubernetes.io/managed-by"]: found "helm", in place of the program\'s own label; allowed: labels other than app.kubernetes.io/managed-by, which marks what the program manages',
        );
        accepted(labels({ "prometheus.io/rules": "titan", release: "", team_a: "x.y" }));
    });
});

describe("4. workloads owned elsewhere", () => {
    const k = () => ({ k: hmac(1, "stable") });
    const patched = (name: string, extra: Record<string, unknown> = {}) => ({
        ownedElsewhere: { kind: "Deployment", name, container: "app", ...extra },
    });

    it("one workload, one service: not patched by two, nor patched and declared", () => {
        expect(
            refused(titanConfig(k(), { ...TITAN_SERVICES, "titan-brain": patched("brain"), "titan-ai-quant": patched("brain") })),
        ).toContain(
            'titan-secrets:services.titan-ai-quant.ownedElsewhere.name: found "brain", the Deployment that service "titan-brain" also patches; allowed: a workload that no other service declares or patches (one workload, one service)',
        );
        expect(refused(titanConfig(k(), { ...TITAN_SERVICES, "titan-ai-quant": patched("titan-sentinel") }))).toContain(
            'titan-secrets:services.titan-ai-quant.ownedElsewhere.name: found "titan-sentinel", the Deployment the program declares for service "titan-sentinel"; allowed: a workload that no other service declares or patches (one workload, one service)',
        );
        // Another kind under the same name is another object.
        accepted(
            titanConfig(k(), {
                ...TITAN_SERVICES,
                "titan-ai-quant": { ownedElsewhere: { kind: "StatefulSet", name: "titan-sentinel", container: "a" } },
            }),
        );
    });

    it("the container the patch writes into is named", () => {
        expect(
            refused(titanConfig(k(), { ...TITAN_SERVICES, "titan-brain": { ownedElsewhere: { kind: "Deployment", name: "brain" } } })).join(
                "\n",
            ),
        ).toContain(
            "titan-secrets:services.titan-brain.ownedElsewhere.container: found nothing; allowed: the container that gets the credentials, by its name in the owner's pod template. Required",
        );
    });

    it("runAs, which needs an fsGroup the patch does not set, is refused", () => {
        expect(
            refused(titanConfig(k(), { ...TITAN_SERVICES, "titan-brain": { ...patched("brain"), runAs: { user: 10001, group: 10001 } } })),
        ).toContain(
            "titan-secrets:services.titan-brain.runAs: found a user and group on a service whose workload is owned elsewhere (Deployment brain); allowed: no runAs here: files at 0440 are readable through the pod's fsGroup, which the patch does not set (the owner's field), so the user could not read them",
        );
        accepted(titanConfig(k(), { ...TITAN_SERVICES, "titan-brain": { image: "x", runAs: { user: 10001, group: 10001 } } }));
    });
});

describe("4. a variable the program delivers is not the user's", () => {
    const redis = {
        kind: "password",
        generation: 1,
        stage: "stable",
        verifiers: ["titan-redis"],
        presenters: ["titan-brain"],
        backend: { type: "redis" },
    };
    const services = (env: Record<string, string>) => ({
        ...TITAN_SERVICES,
        "titan-redis": { image: "redis:7", workload: "StatefulSet", env },
    });

    it("REDIS_ACL_FILE on the Redis server (it was overwritten without a word)", () => {
        expect(refused(titanConfig({ k: hmac(1, "stable"), cache: redis }, services({ REDIS_ACL_FILE: "/data/users.acl" })))).toContain(
            'titan-secrets:services.titan-redis.env.REDIS_ACL_FILE: found a plain value for REDIS_ACL_FILE, which secret "cache" delivers (the server config the program renders); allowed: environment names that no secret delivers to this service',
        );
        accepted(titanConfig({ k: hmac(1, "stable"), cache: redis }, services({ REDIS_PORT: "6379" })));
    });

    it("a presenter's *_FILE, and the verification Job's", () => {
        expect(
            refused(
                titanConfig(
                    { k: hmac(1, "stable"), cache: redis },
                    { ...services({}), "titan-brain": { image: "x", env: { REDIS_PASSWORD_FILE: "/tmp/p" } } },
                ),
            ),
        ).toContain(
            'titan-secrets:services.titan-brain.env.REDIS_PASSWORD_FILE: found a plain value for REDIS_PASSWORD_FILE, which secret "cache" delivers; allowed: environment names that no secret delivers to this service',
        );
        const apiKey = {
            kind: "apiKey",
            exchange: "bybit",
            generation: 1,
            stage: "stable",
            verifiers: [],
            presenters: ["titan-brain"],
            verification: { image: "v", command: ["v"], env: { BYBIT_API_KEY_FILE: "/x" } },
        };
        expect(refused(titanConfig({ k: hmac(1, "stable"), b: apiKey }))).toContain(
            "titan-secrets:secrets.b.verification.env.BYBIT_API_KEY_FILE: found a plain value for BYBIT_API_KEY_FILE, which the program delivers to the verification Job; allowed: environment names the program does not deliver to the Job",
        );
    });
});
