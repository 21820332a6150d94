// Command-line parsing for `check-logs`. Pure: argv in, options or a usage
// error out.

import { UsageError } from "../common";
import { MIN_VALUE_LENGTH } from "./encodings";

export interface CheckLogsArgs {
    stack: string;
    /** --backend: repo or login (cli/backend.ts); default by stack. */
    backend?: string;
    valuesFrom?: string;
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

Logs: each LOGFILE (a .gz file is decompressed), or standard input when the
argument is "-" or there is none. Read line by line: any size.

Values:
  default            the stack's state and config, read with your own access from
                     the stack's backend (dev, local: this repository's, through
                     bash scripts/pulumi.sh; any other stack: the pulumi on PATH
                     and the backend it is logged in to):
                       pulumi stack export --stack S --show-secrets
                         (every RandomPassword result: HMAC keys, service passwords;
                          named by resource, e.g. titan-hmac-g2)
                       pulumi config --stack S --show-secrets --json
                         (every config value marked secret, e.g. exchange API keys)
  --values-from FILE a JSON object { "name": "value", ... } instead (tests, CI)
  Values shorter than ${MIN_VALUE_LENGTH} characters are not searched for (too many false
  positives); the report names them.

Each value is searched raw and as JSON-escaped, URL-encoded
(encodeURIComponent), base64 and base64url (padded or not, also inside a
longer base64 string), and hex of its UTF-8 bytes (either case); a value that
is itself hex also as its bytes' base64 and base64url.

Options:
  --stack S          stack (default: dev)
  --backend B        repo (this repository's local backend) or login (the pulumi
                     on PATH, PULUMI_BACKEND_URL); default: repo for dev and
                     local, login for every other stack
  --values-from FILE values from FILE instead of the stack
  --json             machine-readable report on stdout
  -h, --help         this text

Output (never a value, never a line that holds one):
  FILE:LINE:COLUMN secret=<name> encoding=<encoding>   each occurrence (COLUMN in characters, from 1)
  FILE:LINE unmasked field <field>                     a secret field (password=, "apiKey":,
                                                       token=, TITAN_HMAC_SECRET_PRIMARY=, ...)
                                                       whose value is not [MASKED]
  masked markers: K                                    lines showing [MASKED]
  N leaks of M secrets in L lines                      last line

Exit codes: 0 clean; 1 leaks or unmasked fields found; 2 usage or input error
(bad arguments, unreadable log, no values to search for, values unreadable).
`;

export function parseArgs(argv: readonly string[]): CheckLogsArgs {
    const args: CheckLogsArgs = { stack: "dev", json: false, help: false, files: [] };
    let optionsDone = false;
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
        if (name !== "--stack" && name !== "--values-from" && name !== "--backend") throw new UsageError(`unknown option ${name}`);
        let value: string | undefined;
        if (eq >= 0) value = arg.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
        if (name === "--stack") {
            if (!/^[A-Za-z0-9._/-]+$/.test(value)) throw new UsageError(`--stack: ${JSON.stringify(value)} is not a stack name`);
            args.stack = value;
        } else if (name === "--backend") {
            args.backend = value;
        } else {
            args.valuesFrom = value;
        }
    }
    if (args.files.filter((f) => f === "-").length > 1) throw new UsageError(`standard input ("-") can be read only once`);
    return args;
}
