// Command-line parsing for `check-logs`. Pure: argv in, options or a usage
// error out.

import { UsageError } from "../common";
import { MIN_VALUE_LENGTH } from "./encodings";
import { DEFAULT_LIMITS } from "./scan";

export interface CheckLogsArgs {
    stack: string;
    /** --backend: repo or login (cli/backend.ts); default by stack. */
    backend?: string;
    valuesFrom?: string;
    /** --max-line-length: characters per line. */
    maxLineChars: number;
    /** --max-decompressed-size: bytes per gzip stream. */
    maxDecompressedBytes: number;
    json: boolean;
    help: boolean;
    /** Paths as given; "-" is standard input. Empty: standard input. */
    files: string[];
}

export const USAGE = `Usage: npm run check-logs -- [--stack S] [--backend repo|login] [--values-from FILE] [--json] [LOGFILE ... | -]
       npx tsx cli/check-logs/main.ts [same options]

Searches logs for the live secret values of a stack (docs/runbook.md section 4:
"Ensure no secrets appear in logs. Search for [MASKED]"), and checks that
fields that log a secret show [MASKED] as their value.

Logs: each LOGFILE, or standard input when the argument is "-" or there is
none. Read as a stream, in bounded memory, whatever its name says:
  gzip (by its first bytes, e.g. app.log.1 or .GZ; nested too) is decompressed;
  text is UTF-8 (a BOM is dropped) or UTF-16 (by its BOM, or its zero bytes);
  zstd, bzip2, xz, lz4, zip, 7z, UTF-32 and binary data are NOT SCANNED
  (decompress or convert them first), as is the rest of a file past a line
  longer than --max-line-length or gzip data past --max-decompressed-size.
A file not scanned to its end is reported (NOT SCANNED FILE: reason) and is
never clean: exit 3 (1 if something was found in what was read).

Values:
  default            the stack's state and config, read with your own access from
                     the stack's backend (dev, local: this repository's, through
                     bash scripts/pulumi.sh; any other stack: the pulumi on PATH
                     and the backend it is logged in to):
                       pulumi stack export --stack S --show-secrets
                         (every RandomPassword result: HMAC keys, service passwords;
                          named by resource, e.g. titan-hmac-g2; and a key
                          stack's keyMaterial output; one without its value
                          is an error)
                       pulumi config --stack S --show-secrets --json
                         (every config value marked secret, e.g. exchange API keys)
                     A fleet's workload stack (titan-secrets:fleet role workloads)
                     has no keys of its own: its keys are those of its key stack
                     (fleet.keyRing), read the same way from the same backend.
  --values-from FILE a JSON object { "name": "value", ... } instead (tests, CI);
                     a name given twice is refused (so is the option: one FILE)
  Values shorter than ${MIN_VALUE_LENGTH} characters are not searched for (too many false
  positives); the report names them. No value to search for is an error, never clean.

Each value is searched raw and as JSON-escaped, URL-encoded
(encodeURIComponent), base64 and base64url (padded or not, also inside a
longer base64 string), and hex of its UTF-8 bytes (either case); a value that
is itself hex also as its bytes' base64 and base64url. The log text is
searched as it is and decoded: JSON escapes (\\/, \\u002F), HTML references
(&#x2F;, &#47;, &amp;), percent-escapes in either case and form encoding's +,
hex bytes with separators (3f:9a, 3f 9a, 3F-9A, 0x3f,0x9a), bytes as decimal
numbers ([63, 154, ...], Rust's and Go's debug print); with line breaks
and the indentation around them (a value wrapped over lines, or JSON's \\n;
a container runtime's line prefix or record boundary: CRI partial lines,
kubectl logs --prefix, Docker json-file), ANSI escape sequences, control
and zero-width characters and soft hyphens removed. A finding is reported
where the value starts.

Options:
  --stack S          stack (default: dev)
  --backend B        repo (this repository's local backend) or login (the pulumi
                     on PATH, PULUMI_BACKEND_URL); default: repo for dev and
                     local, login for every other stack
  --values-from FILE values from FILE instead of a stack (not with --stack or --backend)
  --max-line-length N        characters in one line (default ${DEFAULT_LIMITS.maxLineChars})
  --max-decompressed-size N  bytes gzip data may decompress to (default
                     ${DEFAULT_LIMITS.maxDecompressedBytes / 2 ** 30}G); N may end in K, M or G (1024-based)
  --json             machine-readable report on stdout
  -h, --help         this text

Output (never a value, never a line that holds one):
  FILE:LINE:COLUMN secret=<name> encoding=<encoding>   each occurrence (COLUMN in characters, from 1,
                                                       where it starts; encoding: the form it was
                                                       found in, e.g. url, json, hex-separated,
                                                       url+base64)
  FILE:LINE unmasked field <field>                     a secret field (password=, "apiKey":,
                                                       token=, TITAN_HMAC_SECRET_PRIMARY=, ...)
                                                       whose value is not [MASKED]
  masked markers: K                                    lines showing [MASKED]
  NOT SCANNED FILE: reason                             an input not read to its end
  N leaks of M secrets in L lines                      last line (and: U of F inputs not scanned)

Exit codes: 0 clean (every input read to its end, nothing found); 1 leaks or
unmasked fields found; 2 usage or input error (bad arguments, missing or
unreadable log file, no values to search for, values unreadable); 3 an input
not scanned, or not to its end (and nothing found in what was read).
`;

export function parseArgs(argv: readonly string[]): CheckLogsArgs {
    const args: CheckLogsArgs = {
        stack: "dev",
        maxLineChars: DEFAULT_LIMITS.maxLineChars,
        maxDecompressedBytes: DEFAULT_LIMITS.maxDecompressedBytes,
        json: false,
        help: false,
        files: [],
    };
    let optionsDone = false;
    const given = new Set<string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (optionsDone || arg === "-" || !arg.startsWith("-")) {
            args.files.push(arg);
            continue;
        }
        if (arg === "--") {
            optionsDone = true;
            continue;
        }
        if (arg === "-h" || arg === "--help") {
            args.help = true;
            continue;
        }
        if (arg === "--json") {
            args.json = true;
            continue;
        }
        const eq = arg.indexOf("=");
        const name = eq < 0 ? arg : arg.slice(0, eq);
        if (!["--stack", "--values-from", "--backend", "--max-line-length", "--max-decompressed-size"].includes(name))
            throw new UsageError(`unknown option ${name}`);
        let value: string | undefined;
        if (eq >= 0) value = arg.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
        // Last-wins would drop one of two values a person typed: a second --values-from's names never searched for.
        if (given.has(name)) throw new UsageError(`${name} is given twice; give it once`);
        given.add(name);
        if (name === "--stack") {
            if (!/^[A-Za-z0-9._/-]+$/.test(value)) throw new UsageError(`--stack: ${JSON.stringify(value)} is not a stack name`);
            args.stack = value;
        } else if (name === "--backend") {
            args.backend = value;
        } else if (name === "--max-line-length") {
            args.maxLineChars = size(name, value, false);
        } else if (name === "--max-decompressed-size") {
            args.maxDecompressedBytes = size(name, value, true);
        } else {
            args.valuesFrom = value;
        }
    }
    if (args.files.filter((f) => f === "-").length > 1) throw new UsageError(`standard input ("-") can be read only once`);
    // The values come from the file then, not from a stack: a --stack or --backend beside it would be ignored, and the
    // report would seem to say something about that stack.
    const ignored = ["--stack", "--backend"].filter((f) => given.has(f));
    if (args.valuesFrom !== undefined && ignored.length > 0)
        throw new UsageError(`${ignored.join(" and ")} cannot go with --values-from: the values come from the file, not from a stack`);
    return args;
}

/** A positive whole number (with `suffixes`: times 1024, 1024² or 1024³ for K, M, G). */
function size(flag: string, value: string, suffixes: boolean): number {
    const m = (suffixes ? /^([0-9]+)([KMG]?)$/i : /^([0-9]+)()$/).exec(value);
    const n = m ? Number(m[1]) * 1024 ** " KMG".indexOf((m[2] || " ").toUpperCase()) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
        throw new UsageError(
            `${flag}: found ${JSON.stringify(value)}; allowed: a whole number from 1 to ${Number.MAX_SAFE_INTEGER}${suffixes ? ", which may end in K, M or G" : ""}`,
        );
    }
    return n;
}
