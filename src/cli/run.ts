/**
 * The CLI itself, runtime-agnostic: parse the arguments, connect (once or
 * `--repeat` times) through the runtime's dialer and resolver, print each
 * connect, close it, and return the exit status. `main.ts` supplies the
 * runtime and exits.
 *
 * @module
 */

import process from "node:process";
import { connect } from "../connect/connect.ts";
import { ConnectError } from "../base/errors.ts";
import type { Attempt, ConnectEvent, Dialer, Family, Resolver } from "../base/types.ts";
import type { RaceSettings } from "../connect/options.ts";
import type { SourceAddress } from "../addresses/rfc6724.ts";
import { type CliOptions, parseArgs, UsageError } from "./args.ts";
import { failureRecord, formatSummary, formatTimeline, formatTls, successRecord, type TlsRecord } from "./format.ts";
import type { History } from "../history/history.ts";
import { LiveView } from "./live.ts";
import { historyOf, raceSettings, readCaFile } from "./settings.ts";
import { USAGE, USAGE_HINT } from "./usage.ts";
import { VERSION } from "./version.ts";

/** How the CLI dials and resolves on this runtime. */
export interface Runtime {
  /** Dials one address; its connections are closed right after printing. */
  readonly dialer: Dialer<unknown>;
  /** Resolves HOST. */
  readonly resolver: Resolver;
  /** This host's addresses, for RFC 6724 order and NAT64 (as the adapters do); none: the resolver's order. */
  readonly sourceAddresses?: () => readonly SourceAddress[];
  /** The network this host is on, history's partition (as the adapters do); none: one partition. */
  readonly networkId?: () => string | undefined;
  /** Races through the TLS handshake (the runtime's adapter's `connectTls`), for `--tls`; none: `--tls` is refused. */
  readonly connectTls?: (request: TlsRequest) => Promise<TlsConnection>;
}

/** A `--tls` connect, as the CLI asks the runtime for it. */
export interface TlsRequest {
  /** HOST. */
  readonly host: string;
  /** PORT. */
  readonly port: number;
  /** The race: settings, resolver, history, events (as a TCP connect gets them). */
  readonly race: RaceSettings & { readonly resolver: Resolver };
  /** `--ca`: PEM certificates trusted besides the system's. */
  readonly ca?: readonly string[];
  /** `--alpn`: the protocols offered (also what HTTPS records are filtered by). */
  readonly alpn?: readonly string[];
  /** `--servername`: SNI and the name the certificate is checked against; default HOST. */
  readonly servername?: string;
}

/** A finished `--tls` race: the winner's handshake. */
export interface TlsConnection extends TlsRecord {
  /** The address connected to (the race's events name it too). */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** Closes the connection. */
  close(): void;
}

/** Where the CLI writes: one call per line. */
export interface Output {
  /** Results: timelines and JSON lines. */
  out(line: string): void;
  /** Errors and usage hints. */
  err(line: string): void;
  /** Raw text to a terminal, for the live view; absent when stdout is not a terminal. */
  live?: (text: string) => void;
}

/**
 * The exit statuses: 0 every connect succeeded, 1 a connect failed, 2 bad arguments.
 *
 * @example
 * ```ts
 * import { EXIT, main } from "@eyeballs/connect/cli";
 * if (await main(["localhost", "8080"]) === EXIT.failed) console.error("nothing answered");
 * ```
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const consoleOutput: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  live: process.stdout.isTTY ? (text) => process.stdout.write(text) : undefined,
};

/**
 * Runs `eyeballs` with `args` (the arguments after the program name) and
 * resolves to its exit status: 0 when every connect succeeded, 1 when one
 * failed, 2 for bad arguments (including options the library rejects).
 * With `io.live` (stdout is a terminal) a live view of the race is drawn
 * while it runs, then replaced by the static timeline.
 */
export async function run(args: readonly string[], runtime: Runtime, io: Output = consoleOutput): Promise<number> {
  let options: CliOptions;
  try {
    const command = parseArgs(args);
    if (command.kind === "help") {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (command.kind === "version") {
      io.out(VERSION);
      return EXIT.ok;
    }
    options = command.options;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(io, error.message);
  }

  let history: History | false | undefined;
  try {
    history = historyOf(options);
  } catch (error) {
    return usageError(io, asArgument((error as Error).message));
  }
  let ca: readonly string[] | undefined;
  if (options.tls) {
    if (!runtime.connectTls) return usageError(io, "--tls is not available on this runtime");
    try {
      if (options.caFile !== undefined) ca = await readCaFile(options.caFile);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return usageError(io, error.message);
    }
  }
  let failed = false;
  for (let i = 0; i < options.repeat; i++) {
    if (!options.json && options.repeat > 1) io.out(`${i > 0 ? "\n" : ""}connect ${i + 1} of ${options.repeat}`);
    const status = options.tls
      ? await connectTlsOnce(options, runtime, io, history, ca)
      : await connectOnce(options, runtime, io, history);
    if (status === EXIT.usage) return status; // the same options would fail the same way
    if (status !== EXIT.ok) failed = true;
  }
  return failed ? EXIT.failed : EXIT.ok;
}

/** One connect: dial, print, close. Resolves to its exit status. */
async function connectOnce(
  options: CliOptions,
  runtime: Runtime,
  io: Output,
  history: History | false | undefined,
): Promise<number> {
  const { host, port } = options;
  const events: ConnectEvent[] = [];
  const started = performance.now();
  const write = options.json ? undefined : io.live;
  const live = write && new LiveView({ write, now: () => performance.now() - started });
  try {
    const result = await connect({
      ...raceSettings(options),
      hostname: host,
      port,
      dialer: runtime.dialer,
      resolver: runtime.resolver,
      ...(history !== undefined && { history }),
      sourceAddresses: runtime.sourceAddresses?.(),
      network: runtime.networkId?.(),
      onEvent: (event) => {
        events.push(event);
        live?.update(events);
      },
    });
    live?.stop();
    // The CLI only measures: the connection is closed once the race is known.
    runtime.dialer.close(result.conn);
    if (options.json) {
      io.out(JSON.stringify(successRecord(host, port, result, events)));
    } else {
      for (const line of formatTimeline(events, result.attempts, host)) io.out(line);
      io.out(formatSummary(result));
    }
    return EXIT.ok;
  } catch (error) {
    live?.stop();
    // The library names the bad field before dialling anything.
    if (error instanceof TypeError || error instanceof RangeError) return usageError(io, asArgument(error.message));
    const attempts: readonly Attempt[] = error instanceof ConnectError ? error.attempts : [];
    if (options.json) {
      io.out(JSON.stringify(failureRecord(host, port, error, attempts, events)));
    } else {
      for (const line of formatTimeline(events, attempts, host)) io.out(line);
      io.err(`eyeballs: ${error instanceof Error ? error.message : String(error)}`);
    }
    return EXIT.failed;
  }
}

/**
 * One `--tls` connect: the race runs through the TLS handshake (the runtime's `connectTls`); its timeline comes from
 * the events, whose attempts are the race's own. Resolves to its exit status.
 */
async function connectTlsOnce(
  options: CliOptions,
  runtime: Runtime,
  io: Output,
  history: History | false | undefined,
  ca: readonly string[] | undefined,
): Promise<number> {
  const { host, port } = options;
  const events: ConnectEvent[] = [];
  const started = performance.now();
  const write = options.json ? undefined : io.live;
  const live = write && new LiveView({ write, now: () => performance.now() - started }, true, { tls: true });
  const attempts = () =>
    events.flatMap((e) => (e.type === "attempt-start" ? [e.attempt] : [])).sort((a, b) => a.index - b.index);
  try {
    const connection = await runtime.connectTls!({
      host,
      port,
      race: {
        ...raceSettings(options),
        resolver: runtime.resolver,
        ...(history !== undefined && { history }),
        sourceAddresses: runtime.sourceAddresses?.(),
        network: runtime.networkId?.(),
        ...(options.alpn !== undefined && { alpn: options.alpn }),
        onEvent: (event) => {
          events.push(event);
          live?.update(events);
        },
      },
      ...(ca !== undefined && { ca }),
      ...(options.alpn !== undefined && { alpn: options.alpn }),
      ...(options.servername !== undefined && { servername: options.servername }),
    });
    live?.stop();
    connection.close(); // the CLI only measures
    const won = events.find((e) => e.type === "attempt-won");
    const winner = attempts().find((a) => a.outcome === "won");
    const { handshakeMs, alpn, subject, issuer } = connection;
    const tls: TlsRecord = { handshakeMs, alpn, subject, issuer };
    const result = {
      address: winner?.address ?? connection.address,
      family: winner?.family ?? connection.family,
      port: winner?.port ?? port,
      ms: won?.atMs ?? performance.now() - started,
      attempts: attempts(),
    };
    if (options.json) {
      io.out(JSON.stringify(successRecord(host, port, result, events, tls)));
    } else {
      for (const line of formatTimeline(events, result.attempts, host)) io.out(line);
      io.out(formatTls(tls));
      io.out(`${formatSummary(result)}, TLS included`);
    }
    return EXIT.ok;
  } catch (error) {
    live?.stop();
    if (error instanceof TypeError || error instanceof RangeError) return usageError(io, asArgument(error.message));
    if (options.json) {
      io.out(JSON.stringify(failureRecord(host, port, error, attempts(), events)));
    } else {
      for (const line of formatTimeline(events, attempts(), host)) io.out(line);
      io.err(`eyeballs: ${error instanceof Error ? error.message : String(error)}`);
    }
    return EXIT.failed;
  }
}

/** The library's option names, as the command line spells them. */
const ARGUMENTS: Record<string, string> = {
  hostname: "HOST",
  port: "PORT",
  timeout: "--timeout",
  family: "--family",
  resolutionDelay: "--resolution-delay",
  maxAttemptsInFlight: "--max-attempts-in-flight",
  "fixedDelay(ms)": "--attempt-delay",
  "halving(first)": "--attempt-delay",
  "FileHistory: path": "--history",
  "FileHistory: ttl": "--history-ttl",
  "MemoryHistory: ttl": "--history-ttl",
  alpn: "--alpn",
};

/** Renames the field a library error starts with to the argument the user typed. */
function asArgument(message: string): string {
  return message.replace(/^(\w+History: )?[\w()]+/, (field) => ARGUMENTS[field] ?? field);
}

function usageError(io: Output, message: string): number {
  io.err(`eyeballs: ${message}`);
  io.err(USAGE_HINT);
  return EXIT.usage;
}
