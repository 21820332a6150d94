// One pod of the drill, as a real OS process: started by drill/player.ts
// with the environment the kubelet would give the pod (plain values, and
// Secret object keys resolved from the API server), and the consumer
// library doing what a Titan service does. A verifier serves signed
// requests on a loopback port and counts auth_failures; a presenter signs a
// request to every verifier the parent names, every 50 ms. Each outcome is
// reported to the parent; no key ever leaves this process.

import { createServer } from "node:http";
import { hmacKeysFromEnv, sign, verify } from "../consumer";

type FromParent = { type: "targets"; urls: string[] };
export type FromPod =
    | { type: "listening"; port: number }
    | { type: "verified"; ok: boolean; reason?: string; keyId?: string }
    | { type: "sent"; ok: boolean; status: number; keyId: string };

const send = (m: FromPod) => process.send?.(m);
const role = process.env.DRILL_ROLE;
const keys = hmacKeysFromEnv(process.env);

if (role === "verifier") {
    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            // As Node gives them: the library reads names in any case and refuses a header repeated with another value.
            const r = verify(keys, body, req.headers);
            send(r.ok ? { type: "verified", ok: true, keyId: r.keyId } : { type: "verified", ok: false, reason: r.reason });
            res.writeHead(r.ok ? 200 : 401).end(r.ok ? "ok" : r.reason);
        });
    });
    server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        if (address && typeof address === "object") send({ type: "listening", port: address.port });
    });
} else {
    let targets: string[] = [];
    process.on("message", (m: FromParent) => {
        if (m.type === "targets") targets = m.urls;
    });
    let n = 0;
    setInterval(() => {
        for (const url of targets) {
            const body = `order ${process.pid}-${n++}`;
            fetch(url, { method: "POST", body, headers: sign(keys, body) })
                .then((r) => send({ type: "sent", ok: r.ok, status: r.status, keyId: keys.primary.keyId }))
                .catch(() => undefined); // the verifier pod went away between the list and the request: not an auth failure
        }
    }, 50);
}
process.on("disconnect", () => process.exit(0));
