// What an edit of a stack file must not do, checked on the YAML itself. A
// value can be written once and used in several places (an anchor `&g` and
// its aliases `*g`, or a merge key `<<: *base`): writing it where one secret
// declares it would move every secret that shares it, while rotate reports
// one. So an edit refuses any node on its way that is shared (anchored and
// aliased, or an alias itself) or merged, naming the anchor, where it is used
// and the fix; and, whatever the layout, the edited file must parse to the
// original data with exactly the edits applied (sameDataButEdits), or nothing
// is written. The first check gives the message; the second is the guarantee.

import { Document, Node, YAMLMap, isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, visit } from "yaml";
import { PROJECT } from "../../model";

/** A change to one key of one secret: a value to set, or undefined to remove the key. */
export interface SecretEdit {
    secret: string;
    key: string;
    value: string | number | boolean | undefined;
}

/** Path of a secret's key in the document. */
export function secretKeyPath(secret: string, key: string): string[] {
    return ["config", `${PROJECT}:secrets`, secret, key];
}

const SECRETS = `${PROJECT}:secrets`;

/** A node's place as a config key (`titan-secrets:secrets.one.generation`); outside `config`, its path in the file. */
function describePath(keys: (string | number)[]): string {
    const [first, ...rest] = keys;
    const shown = first === "config" && rest.length > 0 ? rest : keys;
    return shown.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("") || "(the whole file)";
}

/** The secret a path is under, if any. */
function secretOf(keys: (string | number)[]): string | undefined {
    return keys[0] === "config" && keys[1] === SECRETS && typeof keys[2] === "string" ? keys[2] : undefined;
}

/** The key path of a node from visit's ancestors (Pairs give their key, sequences the item's index). */
function keyPathOf(ancestors: readonly unknown[], node: unknown): (string | number)[] {
    const keys: (string | number)[] = [];
    const chain = [...ancestors, node];
    for (let i = 0; i < chain.length - 1; i++) {
        const a = chain[i];
        const next = chain[i + 1];
        if (isPair(a) && next === a.value) keys.push(keyText(a.key));
        else if (isSeq(a)) keys.push(a.items.indexOf(next as never));
    }
    return keys;
}

interface AliasUse {
    anchor: string;
    at: (string | number)[];
}

interface Sharing {
    /** Anchored node -> the aliases that resolve to it. */
    usesOf: Map<Node, AliasUse[]>;
    /** Anchored node -> where the anchor is. */
    anchorAt: Map<Node, (string | number)[]>;
    /** Alias node -> the anchored node it resolves to. */
    targetOf: Map<Node, Node>;
}

/** Every alias and the node it resolves to: the last node with that anchor before it, as YAML resolves it. */
function sharingOf(doc: Document): Sharing {
    const latest = new Map<string, Node>();
    const s: Sharing = { usesOf: new Map(), anchorAt: new Map(), targetOf: new Map() };
    visit(doc, {
        Node(_key, node, ancestors) {
            if (isAlias(node)) {
                const target = latest.get(node.source);
                if (!target) return;
                s.targetOf.set(node, target);
                const uses = s.usesOf.get(target) ?? [];
                uses.push({ anchor: node.source, at: keyPathOf(ancestors, node) });
                s.usesOf.set(target, uses);
            } else if (node.anchor) {
                latest.set(node.anchor, node);
                s.anchorAt.set(node, keyPathOf(ancestors, node));
            }
        },
    });
    return s;
}

/** Every node of a subtree (aliases are not followed). */
function nodesIn(node: unknown): Node[] {
    const out: Node[] = [];
    if (isPair(node)) return [...nodesIn(node.key), ...nodesIn(node.value)];
    if (!isNode(node)) return out;
    out.push(node);
    if (isCollection(node)) for (const item of node.items) out.push(...nodesIn(item));
    return out;
}

/** `<<`: yaml parses a merge key (merge: true) to the symbol `<<`; a plain "<<" string is refused too. */
const isMergeKey = (key: unknown) =>
    isScalar(key) && (key.value === "<<" || (typeof key.value === "symbol" && key.value.description === "<<"));

const keyText = (key: unknown) => (isMergeKey(key) ? "<<" : isScalar(key) ? String(key.value) : "(complex key)");

/** `unlink`: the node is an alias that the edit would replace (the others keep their value, this one leaves them). */
function sharedMessage(file: string, secret: string, node: Node, at: (string | number)[], s: Sharing, unlink = false): string {
    const target = isAlias(node) ? s.targetOf.get(node) : node;
    const uses = target ? (s.usesOf.get(target) ?? []) : [];
    const anchorAt = target ? s.anchorAt.get(target) : undefined;
    const anchor = isAlias(node) ? node.source : (uses[0]?.anchor ?? String(node.anchor));
    const places = [...(anchorAt ? [anchorAt] : []), ...uses.map((u) => u.at)];
    const secrets = [...new Set(places.map(secretOf).filter((x): x is string => x !== undefined))];
    const outside = places.filter((p) => secretOf(p) === undefined).map(describePath);
    const others = [...secrets.filter((x) => x !== secret).map((x) => `${SECRETS}.${x}`), ...outside];
    return (
        `${file}: ${describePath(at)} is shared through the YAML anchor &${anchor} ` +
        `(written at ${anchorAt ? describePath(anchorAt) : "(unknown)"}, used by *${anchor} at ${uses.map((u) => describePath(u.at)).join(", ") || "(none)"}; ` +
        `secrets sharing it: ${secrets.join(", ") || "(none)"}), so editing it for ${secret} would ${unlink ? "silently stop sharing it with" : "also change"} ${others.join(", ") || "the places that share it"}. ` +
        `rotate edits only values written out where they are used: write the value out in each place (replace *${anchor} with the value, drop &${anchor}), then run the command again. Nothing was written.`
    );
}

/**
 * Why these edits of `secret` cannot be written into this document, or
 * undefined when they can: a node on the way to an edited key (the top-level
 * map, `config`, `titan-secrets:secrets`, the secret's map, an edited key and
 * its value) that is anchored and used by an alias, is an alias, holds a
 * merge key, or is not a map.
 */
export function editProblem(file: string, doc: Document, secret: string, keys: readonly string[]): string | undefined {
    const s = sharingOf(doc);
    const shared = (n: Node, at: (string | number)[], unlink = false) =>
        isAlias(n) || (s.usesOf.get(n)?.length ?? 0) > 0 ? sharedMessage(file, secret, n, at, s, unlink) : undefined;
    const at: (string | number)[] = [];
    let node: unknown = doc.contents;
    for (const segment of ["config", SECRETS, secret]) {
        const problem = shared(node as Node, at);
        if (problem) return problem;
        if (!isMap(node))
            return `${file}: ${describePath(at)} is not a map, so ${SECRETS}.${secret} cannot be edited in it; nothing was written`;
        if (node.items.some((p) => isMergeKey(p.key))) return mergeMessage(file, describePath(at), secret);
        const pair = (node as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === segment);
        at.push(segment);
        if (!pair)
            return `${file}: ${describePath(at)} is not written out in the file (only inherited or aliased), so it cannot be edited; write it out, then run the command again. Nothing was written.`;
        node = pair.value;
    }
    const secretMap = node;
    const problem = shared(secretMap as Node, at);
    if (problem) return problem;
    if (!isMap(secretMap))
        return `${file}: ${describePath(at)} is not a map of the secret's keys (kind, generation, stage, ...), so rotate cannot edit it; write it as a map. Nothing was written.`;
    if (secretMap.items.some((p) => isMergeKey(p.key))) return mergeMessage(file, describePath(at), secret);
    for (const key of keys) {
        const pair = secretMap.items.find((p) => isScalar(p.key) && p.key.value === key);
        if (!pair) continue;
        for (const n of [...nodesIn(pair.key), ...nodesIn(pair.value)]) {
            const p = shared(n, [...at, key], isAlias(n) && n === pair.value);
            if (p) return p;
        }
    }
    return undefined;
}

function mergeMessage(file: string, where: string, secret: string): string {
    return (
        `${file}: ${where} uses a YAML merge key (<<), so the keys of ${SECRETS}.${secret} come partly from another map that other places may share; ` +
        `rotate cannot write a stage back into merged keys. Write the keys out in full (remove the << line), then run the command again. Nothing was written.`
    );
}

type Data = Record<string, unknown>;

const isRecord = (v: unknown): v is Data => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A deep copy in which nothing is shared: an alias resolves to the same
 * object as its anchor, and editing that object would edit both, which is
 * exactly what the check must see (alias expansion is capped when the file
 * is read, so the copy is bounded).
 */
function unshared(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unshared);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unshared(x)]));
    return v;
}

/** The data with the edits applied, as plain values (what the edited file must parse to). */
export function withEdits(data: Data, edits: readonly SecretEdit[]): Data {
    const out = unshared(data) as Data;
    for (const e of edits) {
        const config = out.config;
        const secrets = isRecord(config) ? config[SECRETS] : undefined;
        const map = isRecord(secrets) ? secrets[e.secret] : undefined;
        if (!isRecord(map)) throw new Error(`no map ${SECRETS}.${e.secret} to edit`);
        if (e.value === undefined) delete map[e.key];
        else map[e.key] = e.value;
    }
    return out;
}

/** Same data: equal values, keys in any order. */
export function sameData(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]));
    }
    if (isRecord(a) && isRecord(b)) {
        const ka = Object.keys(a);
        return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameData(a[k], b[k]));
    }
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
}

/** The secrets whose data differ between two parsed stack files, and whether anything outside the secrets differs. */
export function dataChanges(before: Data, after: Data): { secrets: string[]; outside: boolean } {
    const secretsOf = (d: Data) => {
        const c = d.config;
        const s = isRecord(c) ? c[SECRETS] : undefined;
        return isRecord(s) ? s : {};
    };
    const [b, a] = [secretsOf(before), secretsOf(after)];
    const secrets = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => !sameData(b[k], a[k])).sort();
    const strip = (d: Data) => {
        const c = d.config;
        if (!isRecord(c) || !isRecord(c[SECRETS])) return d;
        return { ...d, config: { ...c, [SECRETS]: "(compared per secret)" } };
    };
    return { secrets, outside: !sameData(strip(before), strip(after)) };
}

/** The line ending kinds a text uses. */
function endings(text: string): { crlf: boolean; lf: boolean; cr: boolean } {
    return { crlf: /\r\n/.test(text), lf: /(^|[^\r])\n/.test(text), cr: /\r(?!\n)/.test(text) };
}

/** Why the edited text does not keep the original's byte order mark and line endings, or undefined. */
export function encodingProblem(original: string, edited: string): string | undefined {
    if (original.startsWith("\uFEFF") !== edited.startsWith("\uFEFF")) return "its byte order mark would be lost or added";
    const [o, e] = [endings(original), endings(edited)];
    if ((e.crlf && !o.crlf) || (e.lf && !o.lf) || (e.cr && !o.cr)) return "its line endings would be mixed";
    return undefined;
}
