// The committed stack files are valid config and say what docs/DESIGN.md says
// each stack is.
import { describe, expect, it } from "vitest";
import { parseConfig, planRotation, followKeyRing, KeyRingSecrets } from "../model";
import { stackConfig } from "../harness/stackFiles";

describe("stack files", () => {
    it.each(["dev", "local", "prod"])("%s parses, plans, and never uses a default Kubernetes provider", (stack) => {
        const { raw, all } = stackConfig(stack);
        const spec = parseConfig(raw);
        expect(all["pulumi:disable-default-providers"]).toEqual(["kubernetes"]);
        const plan = planRotation(spec, {}, new Date());
        expect(plan.secrets.length).toBeGreaterThan(0);
    });

    it("dev renders manifests to a folder; prod names a cluster context instead", () => {
        expect(parseConfig(stackConfig("dev").raw).kubernetes).toMatchObject({ renderDir: "rendered" });
        const prod = parseConfig(stackConfig("prod").raw).kubernetes;
        expect(prod.renderDir).toBeUndefined();
        expect(prod.context).toBe("titan-prod");
    });

    it("local applies dev's secrets to the local control plane of scripts/cluster.sh", () => {
        const local = parseConfig(stackConfig("local").raw, "local");
        expect(local.kubernetes).toMatchObject({ namespace: "titan", kubeconfig: ".cluster/local/kubeconfig", context: "titan-local" });
        expect(local.kubernetes.renderDir).toBeUndefined();
        const dev = parseConfig(stackConfig("dev").raw);
        expect([...local.secrets.values()]).toEqual([...dev.secrets.values()]);
        expect([...local.services.values()].map((s) => ({ ...s, replicas: 1 }))).toEqual([...dev.services.values()]);
    });

    it("dev uses no store of record; prod uses both", () => {
        expect(parseConfig(stackConfig("dev").raw).stores).toEqual({});
        const prod = parseConfig(stackConfig("prod").raw, "prod").stores;
        expect(prod.vault).toMatchObject({ mount: "secret", path: "titan/prod" });
        expect(prod.secretsManager).toMatchObject({ prefix: "titan/prod/" });
    });

    it("prod's monitoring is read (a copy of the reader once dropped it): the PrometheusRule with its release label", () => {
        expect(parseConfig(stackConfig("prod").raw, "prod").monitoring).toMatchObject({
            prometheusRule: true,
            labels: { release: "kube-prometheus-stack" },
        });
    });

    it("prod declares the Titan workloads", () => {
        const services = [...parseConfig(stackConfig("prod").raw).services.keys()];
        expect(services).toEqual(expect.arrayContaining(["titan-brain", "titan-execution-rs", "titan-sentinel", "titan-ai-quant"]));
    });

    it("the lab is a key ring and two clusters that follow it, each on its own local control plane", () => {
        const keys = stackConfig("lab-keys");
        const ring = parseConfig(keys.raw, "lab-keys");
        expect(ring.fleet).toEqual({ role: "keys", clusters: ["lab-eu", "lab-us"] });
        expect(ring.services.size).toBe(0);
        const declared = keys.raw.secrets as KeyRingSecrets;
        const consumers = new Map<string, string[]>();
        for (const c of ["lab-eu", "lab-us"]) {
            const spec = parseConfig(stackConfig(c).raw, c, declared);
            expect(spec.fleet).toEqual({ role: "workloads", keyRing: "lab-keys" });
            expect(spec.kubernetes).toMatchObject({ kubeconfig: `.cluster/${c}/kubeconfig`, context: `titan-${c}` });
            expect(stackConfig(c).all["pulumi:disable-default-providers"]).toEqual(["kubernetes"]);
            const hmac = spec.secrets.get("titan-hmac")!;
            expect(hmac).toMatchObject({ generation: 1, stage: "stable" });
            consumers.set(c, [...hmac.verifiers, ...hmac.presenters]);
            // Its first up: nothing held, nothing refused.
            const follow = followKeyRing(spec, {}, c, { clusters: ["lab-eu", "lab-us"], secrets: declared }, []);
            expect(follow.issues).toEqual([]);
            expect(planRotation(spec, {}, new Date(), new Map(), follow).secrets.map((p) => p.spec.name)).toEqual(["titan-hmac"]);
        }
        // A signer and a listener in each cluster.
        expect(consumers.get("lab-eu")).toHaveLength(2);
        expect(consumers.get("lab-us")).toHaveLength(2);
    });
});
