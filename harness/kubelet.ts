// What the kubelet would mount for a pod's projected Secret volumes, and the
// same files written to a local folder with the owner and mode the kubelet
// gives them, so a test can read them as the pod's user. kwok runs no
// containers, so this is how a test sees a pod's files: from the pod spec and
// the Secret objects (rendered, under mocks, or read from an API server).
//
// The kubelet's rules, as used here (kubelet volume code: projected volume
// SetUpAt, then SetVolumeOwnership for a pod with an fsGroup):
//   - each item's file gets `item.mode`, else the volume's `defaultMode`,
//     else 0644; files are owned by root;
//   - with `securityContext.fsGroup`, every file's group becomes the fsGroup
//     and the read-only mask 0440 is added to its mode.

import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface PodFile {
    /** Path inside the container. */
    path: string;
    mode: number;
    uid: number;
    gid: number;
    content: string;
}

interface PodSpecLike {
    securityContext?: { fsGroup?: number; runAsUser?: number; runAsGroup?: number };
    containers: { volumeMounts?: { name: string; mountPath: string }[] }[];
    volumes?: {
        name: string;
        projected?: {
            defaultMode?: number;
            sources: { secret?: { name: string; items?: { key: string; path: string; mode?: number }[] } }[];
        };
    }[];
}

/** The files of the first container's projected Secret volumes. `secretData(name)` is the object's data, decoded. */
export function projectedFiles(pod: PodSpecLike, secretData: (name: string) => Record<string, string>): PodFile[] {
    const fsGroup = pod.securityContext?.fsGroup;
    const out: PodFile[] = [];
    for (const mount of pod.containers[0].volumeMounts ?? []) {
        const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
        if (!volume?.projected) continue;
        for (const source of volume.projected.sources) {
            if (!source.secret) continue;
            const data = secretData(source.secret.name);
            for (const item of source.secret.items ?? []) {
                if (!(item.key in data))
                    throw new Error(`Secret ${source.secret.name} has no key ${item.key} (the kubelet would not start the pod)`);
                let mode = item.mode ?? volume.projected.defaultMode ?? 0o644;
                if (fsGroup !== undefined) mode |= 0o440;
                out.push({ path: join(mount.mountPath, item.path), mode, uid: 0, gid: fsGroup ?? 0, content: data[item.key] });
            }
        }
    }
    return out;
}

/** Writes the files under `root` (container paths below it) with their owner and mode. Needs root, as the kubelet does. */
export function materialize(root: string, files: PodFile[]): void {
    if (process.getuid?.() !== 0)
        throw new Error("materialize needs root (to give files the kubelet's owner); run the suite as root, as CI does");
    for (const f of files) {
        const path = join(root, f.path);
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
        writeFileSync(path, f.content);
        chownSync(path, f.uid, f.gid);
        chmodSync(path, f.mode);
    }
}

/** Reads a file as a user and group (a child process with that uid and gid). Returns its text, or the error code. */
export function readAs(path: string, uid: number, gid: number): { ok: true; text: string } | { ok: false; code: string } {
    const r = spawnSync(
        process.execPath,
        [
            "-e",
            "try { process.stdout.write(require('fs').readFileSync(process.argv[1], 'utf8')) } catch (e) { process.stderr.write(e.code); process.exit(3) }",
            path,
        ],
        { uid, gid, encoding: "utf8", timeout: 30_000 },
    );
    if (r.status === 0) return { ok: true, text: r.stdout };
    return { ok: false, code: r.stderr.trim() || `exit ${r.status}` };
}
