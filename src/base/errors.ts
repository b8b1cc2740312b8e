/**
 * Errors that say which address failed and why, so that a failed connect
 * explains itself: one line per address, not only the last failure.
 *
 * @module
 */

import type { Attempt, Family } from "./types.ts";

const REASONS: Record<string, string> = {
  ECONNREFUSED: "refused",
  ConnectionRefused: "refused",
  ETIMEDOUT: "timed out",
  TimedOut: "timed out",
  TimeoutError: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EACCES: "prohibited",
  EPERM: "prohibited",
  ECONNRESET: "reset",
  ConnectionReset: "reset",
  EADDRNOTAVAIL: "address not available",
  AddrNotAvailable: "address not available",
  EAFNOSUPPORT: "family not supported",
  // getaddrinfo says the same for a name that does not exist and for one with no address in the family asked.
  ENOTFOUND: "not found",
  NotFound: "not found",
  EAI_AGAIN: "DNS server failed or did not answer",
  ENODATA: "no address",
  ESERVFAIL: "server failure",
  ECONNABORTED: "aborted",
  AbortError: "aborted",
};

/**
 * A short, human word for why something failed ("refused", "timed out",
 * "host unreachable"...), from the error's `code` or `name`.
 */
export function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const key = typeof e?.code === "string" && e.code in REASONS
    ? e.code
    : typeof e?.name === "string" && e.name in REASONS
    ? e.name
    : undefined;
  if (key) return REASONS[key];
  const message = typeof e?.message === "string" && e.message ? e.message : printable(error);
  for (const [code, reason] of Object.entries(REASONS)) {
    if (message.includes(code)) return reason;
  }
  return message;
}

/** `String(value)`, or a placeholder for a value that cannot be turned into text. */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "an error that cannot be printed";
  }
}

/** The code of an error (`ECONNREFUSED`...), its name, or undefined. */
export function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; name?: unknown } | undefined;
  if (typeof e?.code === "string") return e.code;
  if (typeof e?.name === "string" && e.name !== "Error") return e.name;
  return undefined;
}

/**
 * One address that could not be connected. `cause` is the dialer's error.
 *
 * @example
 * ```ts
 * import { AttemptError } from "@eyeballs/connect";
 * const e = new AttemptError("192.0.2.1", 4, 80, new Error("boom"));
 * e.message; // "192.0.2.1 port 80: boom"
 * ```
 */
export class AttemptError extends Error {
  /** The address that failed. */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** The port. */
  readonly port: number;
  /** The error code when the dialer gave one (`ECONNREFUSED`...). */
  readonly code: string | undefined;

  /** An error for `address` failing with `cause`. */
  constructor(address: string, family: Family, port: number, cause: unknown) {
    super(`${family === 6 ? `[${address}]` : address} port ${port}: ${reasonOf(cause)}`, { cause });
    this.name = "AttemptError";
    this.address = address;
    this.family = family;
    this.port = port;
    this.code = codeOf(cause);
  }
}

/**
 * A name that could not be resolved in one family.
 *
 * @example
 * ```ts
 * import { ResolveError } from "@eyeballs/connect";
 * const e = new ResolveError("example.test", 6, new Error("SERVFAIL"));
 * e.message; // "example.test IPv6 (AAAA): SERVFAIL"
 * ```
 */
export class ResolveError extends Error {
  /** The name that was looked up. */
  readonly hostname: string;
  /** The family asked for. */
  readonly family: Family;
  /** The error code when the resolver gave one (`ENOTFOUND`...). */
  readonly code: string | undefined;

  /** An error for `hostname` failing to resolve in `family` with `cause`. */
  constructor(hostname: string, family: Family, cause: unknown) {
    const record = family === 6 ? "IPv6 (AAAA)" : "IPv4 (A)";
    super(`${hostname} ${record}: ${reasonOf(cause)}`, { cause });
    this.name = "ResolveError";
    this.hostname = hostname;
    this.family = family;
    this.code = codeOf(cause);
  }
}

/**
 * The error thrown when no address could be connected: an AggregateError
 * whose message names each address and why it failed, with one
 * {@linkcode AttemptError} or {@linkcode ResolveError} per line in `errors`,
 * and the race's timeline in `attempts`.
 *
 * @example
 * ```ts
 * import { connect, ConnectError } from "@eyeballs/connect";
 * try {
 *   await connect({
 *     hostname: "192.0.2.1", port: 9,
 *     dialer: { dial: () => Promise.reject(new Error("refused")), close: () => {} },
 *   });
 * } catch (e) {
 *   if (e instanceof ConnectError) console.log(e.message, e.attempts.length);
 * }
 * ```
 */
export class ConnectError extends AggregateError {
  /** Every attempt of the race, in start order. */
  readonly attempts: readonly Attempt[];
  /**
   * What failed, as Node's own Happy Eyeballs error says it (drivers' retry logic reads it): `ETIMEDOUT` when the
   * timeout ended the connect, `ECONNREFUSED` when every attempt was refused, `EACCES` when the address policy
   * refused every address, the resolver's `ENOTFOUND` or `EAI_AGAIN` when there was no address, else the code the
   * attempts share, or the first attempt's.
   */
  readonly code: string | undefined;

  /** Builds the error for `hostname:port` from its per-address errors; `timedOut` when the timeout ended it. */
  constructor(
    hostname: string,
    port: number,
    errors: readonly (AttemptError | ResolveError)[],
    attempts: readonly Attempt[],
    why = "could not connect",
    timedOut = false,
  ) {
    const lines = errors.length ? errors.map((e) => `  ${e.message}`).join("\n") : "  no address to try";
    super(errors, `${why} to ${hostname} port ${port}:\n${lines}`);
    this.name = "ConnectError";
    this.attempts = attempts;
    this.code = timedOut ? "ETIMEDOUT" : connectCode(errors);
  }
}

/** The code of a failed connect from its errors (see {@linkcode ConnectError.code}). */
function connectCode(errors: readonly (AttemptError | ResolveError)[]): string | undefined {
  const attempts = errors.filter((e): e is AttemptError => e instanceof AttemptError);
  if (attempts.length === 0) {
    const codes = errors.map((e) => e.code);
    if (codes.includes("EAI_AGAIN") || codes.includes("ESERVFAIL") || codes.includes("ETIMEOUT")) return "EAI_AGAIN";
    return "ENOTFOUND";
  }
  // Every address refused by the address policy: access was denied here, not by the network.
  if (attempts.every((e) => e.code === "PolicyRefusal")) return "EACCES";
  const [first] = attempts;
  return attempts.every((e) => e.code === first.code) ? first.code : first.code ?? attempts.find((e) => e.code)?.code;
}
