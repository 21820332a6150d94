// Command-line parsing for `rotate`. Pure: argv in, a parsed command or a
// usage error out.

import { UsageError } from "../common";
import { parseInstant } from "../../model";

export const COMMANDS = ["status", "plan", "advance", "revert", "compromise", "recover", "run"] as const;
export type CommandName = (typeof COMMANDS)[number];

const VALUE_FLAGS = [
    "stack",
    "dir",
    "file",
    "ledger",
    "backend",
    "now",
    "incident",
    "key-id",
    "due-within",
    "stacks",
    "generation",
] as const;
const BOOLEAN_FLAGS = ["json", "markdown", "check", "no-ledger", "dry-run", "force", "help", "parallel"] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];
type BooleanFlag = (typeof BOOLEAN_FLAGS)[number];

/**
 * Which flags each command reads. A flag a command would ignore is refused
 * for that command (`run --file`, `recover --now`): a person who gives it
 * expects it to change something.
 */
const STACK_FILE = ["stack", "dir", "file", "ledger", "backend", "no-ledger", "now", "json", "help"];
const COMMAND_FLAGS: Record<CommandName, string[]> = {
    status: [...STACK_FILE, "check", "due-within"],
    plan: [...STACK_FILE, "markdown"],
    advance: [...STACK_FILE, "force", "key-id", "dry-run"],
    revert: [...STACK_FILE, "dry-run"],
    compromise: [...STACK_FILE, "incident", "key-id", "dry-run"],
    recover: ["stack", "backend", "json", "help"],
    run: ["stacks", "generation", "parallel", "dir", "backend", "now", "help"],
};
/** `status --stacks`: the fleet's stacks through their backend, never one stack file or a ledger file. */
const FLEET_STATUS_FLAGS = ["stacks", "dir", "backend", "now", "json", "check", "due-within", "help"];

/** A Pulumi stack name: letters, digits, `-`, `_`, `.` (what `pulumi stack init` accepts), at most 100 characters. */
export const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** The highest generation the ledger accepts (model/ledger.ts). */
const MAX_GENERATION = 1_000_000;
/** --due-within: at most ten years ahead. */
const MAX_DUE_WITHIN_DAYS = 3650;

export interface ParsedArgs {
    command?: CommandName;
    secret?: string;
    values: Partial<Record<ValueFlag, string>>;
    flags: Partial<Record<BooleanFlag, boolean>>;
    /** --now, parsed (every command that takes it refuses one that is not a time). */
    now?: Date;
    /** --generation and --due-within, checked whole numbers. */
    generation?: number;
    dueWithin?: number;
    /** --stacks, split: the key stack first. */
    stacks?: string[];
}

export const USAGE = `Usage: npm run rotate -- <command> [options]

Commands:
  status [--check] [--due-within DAYS]   every secret: stage, key IDs, age, due date, legal next steps
  plan [--markdown]                      what the next pulumi up does to rotations (waves, refusals)
  advance <secret> [--force] [--key-id ID] [--dry-run]
                                         write the next stage: stable N -> overlap N+1 -> stable N+1;
                                         revert N -> stable N-1; compromised N -> stable N
  revert <secret> [--dry-run]            overlap N -> revert N (presenters go back to N-1)
  compromise <secret> --incident ID [--key-id ID] [--dry-run]
                                         emergency: compromised at generation N+1
  recover                                after an up that was killed: remove the stack's lock if
                                         its process is gone, clear pending creates; then pulumi up
  run <secret> --stacks KEYS,C1,C2 [--generation N] [--parallel]
                                         a whole rotation over a key stack and its clusters'
                                         workload stacks: pulumi up of each in order (Automation
                                         API); stops at the first failure or wait with the command
                                         that resumes; safe to run again. --parallel: the clusters
                                         of one step side by side (every verifiers' step, then
                                         every presenters' step)
  status --stacks KEYS,C1,C2 [--check] [--due-within DAYS]
                                         the key ring and every cluster at once, with due dates

Options:
  --stack S        stack (default: dev); the file is Pulumi.<S>.yaml
  --dir DIR        folder holding the stack file (default: the repository root)
  --file FILE      the stack file itself (instead of --dir); its stack is the S
                   of its name Pulumi.<S>.yaml, or --stack S for another name
  --ledger FILE    the last ledger as JSON (pulumi stack output ledger --json);
                   default: the stack's ledger output from its backend
  --backend B      where the stack's state is: repo (this repository's local
                   backend, scripts/pulumi.sh; default for dev and local) or
                   login (the pulumi on PATH and the backend it is logged in
                   to, PULUMI_BACKEND_URL; default for every other stack)
  --no-ledger      use no ledger: every secret is first seen
  --now ISO        the clock, e.g. 2026-11-01T00:00:00Z (default: now)
  --json           machine-readable output
  --check          status: exit 1 when a secret is overdue or refused
  --due-within N   status: days ahead that count as due soon (0-3650, default 14)
  --generation N   run: the generation to rotate to (1-1000000)

Each command takes only the options it reads (run: --stacks, --generation,
--parallel, --dir, --backend, --now; recover: --stack, --backend, --json);
an option it would ignore, or one given twice, is a usage error.

Exit codes: 0 ok; 1 refused (the model refuses the step or the config, plan
refused, a clock earlier than the ledger, status --check found an overdue
or refused secret); 2 usage error (bad arguments, unknown secret, unreadable
stack file; also an internal error, "rotate: internal error: ..."); 3 the stack file cannot be edited without changing something
else (a value shared through a YAML anchor or merge key, an unusual layout):
nothing written; 4 the ledger cannot be read (the backend refused, no
pulumi, a ledger file or row that does not parse; recover: the stack's
state): nothing is reported about what was not read; --no-ledger treats
every secret as first seen.
`;

/**
 * A whole number typed by a person, in decimal digits only: `1e3`, `0x10`,
 * `1.5`, `-1`, `+2` and numbers past `max` are refused rather than read by
 * Number() as something else.
 */
function wholeNumber(flag: string, text: string, min: number, max: number, what: string): number {
    const n = /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
        throw new UsageError(`--${flag} needs ${what} from ${min} to ${max} in decimal digits, found ${JSON.stringify(text)}`);
    return n;
}

export function parseArgs(argv: string[]): ParsedArgs {
    const parsed: ParsedArgs = { values: {}, flags: {} };
    const positional: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "-h") {
            parsed.flags.help = true;
            continue;
        }
        if (!arg.startsWith("--")) {
            positional.push(arg);
            continue;
        }
        const eq = arg.indexOf("=");
        const name = arg.slice(2, eq < 0 ? undefined : eq);
        if ((VALUE_FLAGS as readonly string[]).includes(name)) {
            const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
            if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
            // Last-wins would act on one of two values a person typed, unseen.
            if (parsed.values[name as ValueFlag] !== undefined) throw new UsageError(`--${name} is given twice; give it once`);
            parsed.values[name as ValueFlag] = value;
        } else if ((BOOLEAN_FLAGS as readonly string[]).includes(name)) {
            if (eq >= 0) throw new UsageError(`--${name} takes no value`);
            if (parsed.flags[name as BooleanFlag]) throw new UsageError(`--${name} is given twice; give it once`);
            parsed.flags[name as BooleanFlag] = true;
        } else {
            throw new UsageError(`unknown option ${arg}`);
        }
    }
    if (parsed.flags.help) return parsed;
    const [command, ...rest] = positional;
    if (command === undefined) throw new UsageError("no command given");
    if (!(COMMANDS as readonly string[]).includes(command))
        throw new UsageError(`unknown command ${JSON.stringify(command)}; commands: ${COMMANDS.join(", ")}`);
    parsed.command = command as CommandName;
    const wantsSecret = parsed.command !== "status" && parsed.command !== "plan" && parsed.command !== "recover";
    if (wantsSecret) {
        if (rest.length === 0) throw new UsageError(`${command} needs the name of a secret`);
        parsed.secret = rest.shift();
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    const fleetStatus = parsed.command === "status" && parsed.values.stacks !== undefined;
    const allowed = new Set(fleetStatus ? FLEET_STATUS_FLAGS : COMMAND_FLAGS[parsed.command]);
    for (const name of [...Object.keys(parsed.values), ...Object.keys(parsed.flags)]) {
        if (!allowed.has(name))
            throw new UsageError(
                `--${name} does not apply to ${fleetStatus ? "status --stacks" : command}; it takes: ${[...allowed].map((f) => `--${f}`).join(", ")}`,
            );
    }
    if (parsed.values.file && parsed.values.dir) throw new UsageError("give --file or --dir, not both");
    if (parsed.values.ledger && parsed.flags["no-ledger"]) throw new UsageError("give --ledger or --no-ledger, not both");
    if (parsed.flags.json && parsed.flags.markdown) throw new UsageError("give --json or --markdown, not both");
    if (parsed.command === "run" && !parsed.values.stacks)
        throw new UsageError("run needs --stacks <key stack>,<cluster>,... e.g. --stacks keys,eu,us");
    const stack = parsed.values.stack;
    if (stack !== undefined && !STACK_NAME.test(stack))
        throw new UsageError(
            `--stack: ${JSON.stringify(stack)} is not a stack name (letters, digits, "-", "_" and ".", at most 100 characters)`,
        );
    const stacks = parsed.values.stacks;
    if (stacks !== undefined) {
        const names = stacks.split(",");
        if (names.length < 2 || !names.every((n) => STACK_NAME.test(n)))
            throw new UsageError(
                `--stacks needs the key stack then each cluster's stack, comma-separated (keys,eu,us), found ${JSON.stringify(stacks)}`,
            );
        // A stack named twice would be upped twice, side by side with --parallel.
        const twice = names.filter((n, i) => names.indexOf(n) !== i);
        if (twice.length > 0) throw new UsageError(`--stacks names ${[...new Set(twice)].join(", ")} more than once; name each stack once`);
        parsed.stacks = names;
    }
    const generation = parsed.values.generation;
    if (generation !== undefined) parsed.generation = wholeNumber("generation", generation, 1, MAX_GENERATION, "a generation number");
    if (parsed.command === "compromise" && !parsed.values.incident) throw new UsageError("compromise needs --incident <incident ID>");
    const within = parsed.values["due-within"];
    if (within !== undefined) parsed.dueWithin = wholeNumber("due-within", within, 0, MAX_DUE_WITHIN_DAYS, "a whole number of days");
    const now = parsed.values.now;
    if (now !== undefined) {
        parsed.now = parseInstant(now);
        if (parsed.now === undefined)
            throw new UsageError(`--now: ${JSON.stringify(now)} is not an ISO time such as 2026-11-01T00:00:00Z (or a date, 2026-11-01)`);
    }
    return parsed;
}
