/**
 * Command-line parsing: turns argv into {@linkcode CliOptions}, or a
 * {@linkcode UsageError} whose message names the bad argument. Only the
 * shape of each value is checked here; the library checks the rest (a
 * RangeError from it is also a usage error for the CLI).
 *
 * @module
 */

import { ADDRESS_CATEGORIES, type AddressCategory, INTERNAL_CATEGORIES } from "../addresses/policy.ts";
import { parseIp } from "../addresses/ip.ts";

/** The schedules `--schedule` can name. */
export type ScheduleName = "default" | "rfc8305" | "halving";

/** What the command line asks for. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "connect"; readonly options: CliOptions };

/** The options of a connect run. Unset numbers mean "the library's default". */
export interface CliOptions {
  /** HOST as given: a name or an IP literal. */
  readonly host: string;
  /** PORT, 1 to 65535. */
  readonly port: number;
  /** `--json`: one JSON line per connection. */
  readonly json: boolean;
  /** `--repeat`: how many connects, one after another. */
  readonly repeat: number;
  /** `--schedule`; `--attempt-delay` alone means `rfc8305`. */
  readonly schedule: ScheduleName;
  /** `--attempt-delay`, in ms. */
  readonly attemptDelay?: number;
  /** `--timeout`, in ms. */
  readonly timeout?: number;
  /** `--family`. */
  readonly family?: 4 | 6;
  /** `--resolution-delay`, in ms. */
  readonly resolutionDelay?: number;
  /** `--max-attempts-in-flight`. */
  readonly maxAttemptsInFlight?: number;
  /** `--history FILE`: a file-backed history shared between runs. */
  readonly historyFile?: string;
  /** `--history-ttl`, in ms: how long history remembers a host. */
  readonly historyTtl?: number;
  /** `--no-history`: learn nothing, use nothing. */
  readonly noHistory?: boolean;
  /** `--deny`: the address categories refused before any SYN. */
  readonly deny?: readonly AddressCategory[];
  /** `--tls`: race until a TLS handshake completes, and report it. */
  readonly tls?: boolean;
  /** `--ca FILE`: a PEM file of CA certificates trusted besides the system's (with `--tls`). */
  readonly caFile?: string;
  /** `--alpn LIST`: the ALPN protocol ids offered, in order (with `--tls`). */
  readonly alpn?: readonly string[];
  /** `--servername NAME`: the name sent in SNI and the certificate is checked against (with `--tls`). */
  readonly servername?: string;
}

/**
 * A bad command line. The CLI prints its message and a usage hint, and
 * exits with status 2.
 */
export class UsageError extends Error {
  /** A usage error with `message`, which names the argument. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const FLAGS = new Set(["--json", "--no-history", "--tls"]);
const VALUED = new Set([
  "--repeat",
  "--schedule",
  "--attempt-delay",
  "--timeout",
  "--family",
  "--resolution-delay",
  "--max-attempts-in-flight",
  "--history",
  "--history-ttl",
  "--deny",
  "--ca",
  "--alpn",
  "--servername",
]);
const SCHEDULES: readonly ScheduleName[] = ["default", "rfc8305", "halving"];

/**
 * Parses the arguments after the program name. `--help` and `--version`
 * win over everything else, so they work even on an otherwise bad line.
 * Options take their value as `--opt value` or `--opt=value`; `--` ends the
 * options.
 */
export function parseArgs(argv: readonly string[]): Command {
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  if (options.includes("--help") || options.includes("-h")) return { kind: "help" };
  if (options.includes("--version") || options.includes("-V")) return { kind: "version" };

  const positional: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (i === end) {
      positional.push(...argv.slice(i + 1));
      break;
    }
    // "-1" is a (bad) port, not an option.
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (FLAGS.has(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value, got ${JSON.stringify(arg)}`);
      flags.add(name);
    } else if (VALUED.has(name)) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length && i + 1 !== end && !argv[i + 1].startsWith("--")) value = argv[++i];
      // "--timeout --json" is a forgotten value, not a timeout of "--json".
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option ${JSON.stringify(name)}`);
    }
  }

  if (positional.length === 0) throw new UsageError("missing HOST and PORT");
  if (positional.length === 1) throw new UsageError("missing PORT (after HOST)");
  if (positional.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(positional[2])}`);
  const [host, portText] = positional;
  if (host === "") throw new UsageError("HOST must not be empty");
  const port = wholeNumber(portText, "PORT");
  if (port < 1 || port > 65535) throw new UsageError(`PORT must be from 1 to 65535, got ${portText}`);

  const get = <T>(name: string, parse: (text: string, name: string) => T): T | undefined => {
    const text = values.get(name);
    return text === undefined ? undefined : parse(text, name);
  };
  const repeat = get("--repeat", wholeNumber) ?? 1;
  if (repeat < 1) throw new UsageError(`--repeat must be at least 1, got ${repeat}`);
  const maxAttemptsInFlight = get("--max-attempts-in-flight", wholeNumber);
  if (maxAttemptsInFlight === 0) throw new UsageError("--max-attempts-in-flight must be at least 1, got 0");
  const attemptDelay = get("--attempt-delay", milliseconds);
  const historyFile = get("--history", (text, name) => {
    if (text === "") throw new UsageError(`${name} needs a FILE name`);
    return text;
  });
  const historyTtl = get("--history-ttl", milliseconds);
  if (historyTtl === 0) throw new UsageError("--history-ttl must be more than 0 ms, got 0");
  const noHistory = flags.has("--no-history");
  if (noHistory && (historyFile !== undefined || historyTtl !== undefined)) {
    throw new UsageError(`--no-history contradicts ${historyFile !== undefined ? "--history" : "--history-ttl"}`);
  }
  const tls = flags.has("--tls");
  const needsTls = ["--ca", "--alpn", "--servername"].find((name) => values.has(name));
  if (!tls && needsTls !== undefined) throw new UsageError(`${needsTls} needs --tls`);
  const caFile = get("--ca", (text, name) => {
    if (text === "") throw new UsageError(`${name} needs a FILE name (a PEM file of CA certificates)`);
    return text;
  });
  const alpn = get("--alpn", alpnList);
  const servername = get("--servername", serverName);
  const named = get("--schedule", scheduleName);
  if (named === "default" && attemptDelay !== undefined) {
    throw new UsageError("--attempt-delay does not apply to --schedule default (use rfc8305 or halving)");
  }
  return {
    kind: "connect",
    options: {
      host,
      port,
      json: flags.has("--json"),
      repeat,
      schedule: named ?? (attemptDelay === undefined ? "default" : "rfc8305"),
      attemptDelay,
      timeout: get("--timeout", milliseconds),
      family: get("--family", family),
      resolutionDelay: get("--resolution-delay", milliseconds),
      maxAttemptsInFlight,
      ...(historyFile !== undefined && { historyFile }),
      ...(historyTtl !== undefined && { historyTtl }),
      ...(noHistory && { noHistory }),
      deny: get("--deny", denyList),
      ...(tls && { tls }),
      ...(caFile !== undefined && { caFile }),
      ...(alpn !== undefined && { alpn }),
      ...(servername !== undefined && { servername }),
    },
  };
}

/**
 * `--deny`: `internal` (every special-purpose range but documentation), `all`, or a comma-separated list of
 * categories (`loopback,private`).
 */
function denyList(text: string, name: string): readonly AddressCategory[] {
  if (text === "internal") return INTERNAL_CATEGORIES;
  if (text === "all") return ADDRESS_CATEGORIES;
  const names = text.split(",");
  const bad = names.find((n) => !ADDRESS_CATEGORIES.includes(n as AddressCategory));
  if (bad !== undefined) {
    throw new UsageError(
      `${name} must be internal, all, or a list of ${ADDRESS_CATEGORIES.join(", ")}; got ${JSON.stringify(bad)}`,
    );
  }
  return names as AddressCategory[];
}

/** `--alpn`: comma-separated ALPN protocol ids (RFC 7301: 1 to 255 bytes each), no empty entry, no repeat. */
function alpnList(text: string, name: string): readonly string[] {
  const ids = text.split(",");
  ids.forEach((id, i) => {
    if (id === "") {
      throw new UsageError(
        `${name} must be a comma-separated list of protocols (h2,http/1.1); entry ${i + 1} is empty`,
      );
    }
    if (new TextEncoder().encode(id).length > 255) {
      throw new UsageError(`${name}: protocol ${JSON.stringify(id.slice(0, 20) + "…")} is longer than 255 bytes`);
    }
    if (/[\s\x00-\x1f]/.test(id)) {
      throw new UsageError(`${name}: protocol ${JSON.stringify(id)} has a space or control character`);
    }
    if (ids.indexOf(id) !== i) throw new UsageError(`${name}: protocol ${JSON.stringify(id)} is listed twice`);
  });
  return ids;
}

/** `--servername`: a DNS name (SNI carries no IP address, RFC 6066 §3). */
function serverName(text: string, name: string): string {
  if (text === "") throw new UsageError(`${name} needs a NAME`);
  if (parseIp(text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text)) {
    throw new UsageError(`${name} must be a DNS name, not an IP address (SNI carries names only), got ${text}`);
  }
  const labels = text.replace(/\.$/, "").split(".");
  if (text.length > 254 || labels.some((label) => !/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))) {
    throw new UsageError(`${name} must be a DNS name such as example.com, got ${JSON.stringify(text)}`);
  }
  return text;
}

/** A whole decimal number, e.g. a port or a count. */
function wholeNumber(text: string, name: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A duration in ms: a decimal number ≥ 0 such as `250` or `12.5`. */
function milliseconds(text: string, name: string): number {
  if (!/^\d{1,9}(\.\d+)?$/.test(text)) {
    throw new UsageError(`${name} must be a number of milliseconds ≥ 0, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function family(text: string, name: string): 4 | 6 {
  if (text === "4" || text === "6") return Number(text) as 4 | 6;
  throw new UsageError(`${name} must be 4 or 6, got ${JSON.stringify(text)}`);
}

function scheduleName(text: string, name: string): ScheduleName {
  const found = SCHEDULES.find((s) => s === text);
  if (found) return found;
  throw new UsageError(`${name} must be one of ${SCHEDULES.join(", ")}; got ${JSON.stringify(text)}`);
}
