// Real redis-server and nats-server on loopback, for checking that the
// configs the program renders let exactly the right credentials in.
// Ports are chosen free at run time; every server is stopped by its test.

import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { AddressInfo, createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

export interface RunningServer {
    port: number;
    stop(): Promise<void>;
}

async function waitForPort(port: number, proc: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${log()}`);
        const ok = await new Promise<boolean>((resolve) => {
            const s = connect(port, "127.0.0.1", () => {
                s.destroy();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server did not listen on ${port}: ${log()}`);
}

function start(cmd: string, args: string[], port: number): Promise<RunningServer> {
    const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    const stop = () =>
        new Promise<void>((resolve) => {
            if (proc.exitCode !== null) return resolve();
            proc.once("exit", () => resolve());
            proc.kill("SIGTERM");
        });
    return waitForPort(port, proc, () => out).then(
        () => ({ port, stop }),
        async (e) => {
            await stop();
            throw e;
        },
    );
}

function writeTemp(name: string, content: string): string {
    const dir = mkdtempSync(join(tmpdir(), "titan-server-"));
    const file = join(dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
}

/** redis-server with the rendered ACL file, no persistence, loopback only. */
export async function startRedis(acl: string): Promise<RunningServer> {
    const port = await freePort();
    const file = writeTemp("users.acl", acl);
    return start(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--aclfile", file, "--save", "", "--appendonly", "no"],
        port,
    );
}

/** nats-server with the rendered config (which names its own port). */
export async function startNats(config: string, port: number): Promise<RunningServer> {
    const file = writeTemp("nats.conf", config);
    return start("nats-server", ["-c", file, "-a", "127.0.0.1"], port);
}

/** Reads from a socket until `done` says the reply is complete. */
function exchange(
    port: number,
    send: (write: (s: string) => void, received: string) => void,
    done: (received: string) => boolean,
): Promise<string> {
    return new Promise((resolve, reject) => {
        let received = "";
        const s = connect(port, "127.0.0.1");
        const timer = setTimeout(() => {
            s.destroy();
            reject(new Error(`no reply on ${port}; got ${JSON.stringify(received)}`));
        }, 5000);
        s.on("data", (d) => {
            received += d.toString();
            send((x) => s.write(x), received);
            if (done(received)) {
                clearTimeout(timer);
                s.destroy();
                resolve(received);
            }
        });
        s.on("connect", () => send((x) => s.write(x), received));
        s.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
    });
}

/** AUTH user password over RESP: true on +OK, false on an error reply. */
export async function redisLogin(port: number, user: string, password: string): Promise<boolean> {
    const bulk = (x: string) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`;
    let sent = false;
    const reply = await exchange(
        port,
        (write) => {
            if (!sent) write(`*3\r\n${bulk("AUTH")}${bulk(user)}${bulk(password)}`);
            sent = true;
        },
        (r) => r.includes("\r\n"),
    );
    if (reply.startsWith("+OK")) return true;
    if (reply.startsWith("-WRONGPASS")) return false;
    throw new Error(`unexpected Redis reply ${JSON.stringify(reply)}`);
}

/** CONNECT with user and password: true on PONG, false on an authorization error. */
export async function natsLogin(port: number, user: string, password: string): Promise<boolean> {
    let sent = false;
    const reply = await exchange(
        port,
        (write, received) => {
            if (!sent && received.startsWith("INFO")) {
                write(`CONNECT ${JSON.stringify({ user, pass: password, verbose: false, pedantic: false, protocol: 1 })}\r\nPING\r\n`);
                sent = true;
            }
        },
        (r) => r.includes("PONG") || r.includes("-ERR"),
    );
    if (reply.includes("PONG")) return true;
    if (reply.includes("Authorization Violation")) return false;
    throw new Error(`unexpected NATS reply ${JSON.stringify(reply)}`);
}
