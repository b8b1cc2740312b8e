/**
 * The adapters' option checks: what `net.connect` (or `Deno.connect`) takes
 * and makes sense for a race is accepted; anything else is a TypeError that
 * names the option, so `tls: true` can never quietly mean plaintext.
 *
 * @module
 */

import { parseIp } from "../../addresses/ip.ts";
import type { Family } from "../../base/types.ts";
import type { RaceSettings } from "../../connect/options.ts";
import type { Host } from "../../connect/validate.ts";
import { describe, requireDelay, requireObject } from "../../base/checks.ts";

/** Every race setting an adapter passes on: a Record, so that a setting added to RaceSettings cannot be missed here. */
const RACE_FIELDS: Record<keyof RaceSettings | "resolver", true> = {
  schedule: true,
  resolutionDelay: true,
  firstAddressFamilyCount: true,
  preferredFamily: true,
  family: true,
  maxAttemptsInFlight: true,
  timeout: true,
  signal: true,
  onEvent: true,
  clock: true,
  history: true,
  network: true,
  alpn: true,
  scheme: true,
  addressPolicy: true,
  sourceAddresses: true,
  nat64Prefix: true,
  resolver: true,
};
const RACE_KEYS = Object.keys(RACE_FIELDS);

/**
 * Socket options applied to the winner (and `localAddress` to every attempt).
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/node";
 * const socket = await connect({ host: "localhost", port: 5432, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 });
 * ```
 */
export interface SocketOptions {
  /** Dial from this local IP; only addresses of its family are tried. Node and Bun. */
  readonly localAddress?: string;
  /** Disable Nagle's algorithm on the connection. */
  readonly noDelay?: boolean;
  /** Enable TCP keep-alive on the connection. */
  readonly keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms (with `keepAlive`). Node and Bun. */
  readonly keepAliveInitialDelay?: number;
}

/** Which options one adapter entry point takes besides the race settings. */
export interface OptionShape {
  /** `host` (Node) or `hostname` (Deno, Bun). */
  readonly hostField: "host" | "hostname";
  /** Socket options it takes (a subset of {@linkcode SocketOptions}' keys). */
  readonly socket: readonly (keyof SocketOptions)[];
  /** Further options it takes (TLS options for `connectTls`). */
  readonly extra?: readonly string[];
  /** Options accepted and ignored because they are the runtime's own defaults (Deno's `transport: "tcp"`). */
  readonly ignored?: Readonly<Record<string, unknown>>;
}

/** Hints for options people bring from `net.connect`, `tls.connect` or `Deno.connect`. */
const HINTS: Record<string, string> = {
  tls: "for TLS use connectTls, which races TCP and then runs TLS on the winner",
  servername: "TLS options belong to connectTls",
  ALPNProtocols: "TLS options belong to connectTls",
  alpnProtocols: "TLS options belong to connectTls",
  ca: "TLS options belong to connectTls",
  caCerts: "TLS options belong to connectTls",
  cert: "TLS options belong to connectTls",
  key: "TLS options belong to connectTls",
  rejectUnauthorized: "TLS options belong to connectTls",
  lookup: "pass a resolver ({ resolve(name, family, signal) }) instead",
  autoSelectFamily: "eyeballs is the family selection; tune it with schedule",
  autoSelectFamilyAttemptTimeout: "eyeballs never kills an attempt on a timer; tune starts with schedule",
  path: "Unix sockets have nothing to race; use net.connect",
  localPort: "attempts run in parallel and cannot share one local port",
  hints: "the resolver decides the addresses",
};

/** The checked options: the race settings for the core, and the socket options. */
export interface CheckedOptions {
  /** The race settings, the host under `hostname` and the port as a number. */
  readonly race: Record<string, unknown> & { hostname: unknown; port: number; family?: Family };
  /** The host, already checked, when the options were only an IP literal and a port; else the core checks it. */
  readonly host?: Host;
  /** Socket options that were set. */
  readonly socket: SocketOptions;
  /** The extra options that were set (TLS options). */
  readonly extra: Record<string, unknown>;
}

/**
 * Checks an adapter's options: unknown options are a TypeError naming them;
 * `port` may be a numeric string; a host with a port in it says where the
 * port goes; the socket options are type-checked; `localAddress` limits the
 * race to its family. Host and race settings are checked later by the core,
 * under the caller's field names.
 */
export function checkAdapterOptions(options: unknown, shape: OptionShape): CheckedOptions {
  const plain = plainLiteral(options, shape);
  if (plain) return plain;
  requireObject(options);
  const known = knownOptions(shape);
  const race: Record<string, unknown> = {};
  // Made only when such an option is set: most connects have none, and every object counts (docs/performance.md).
  let socket: Record<string, unknown> | undefined;
  let extra: Record<string, unknown> | undefined;
  let host: unknown;
  for (const key of Object.keys(options)) { // own enumerable keys, as Object.entries, without the pairs
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (shape.ignored && key in shape.ignored) {
      if (value !== shape.ignored[key]) {
        throw new RangeError(`${key} must be ${describe(shape.ignored[key])}, got ${describe(value)}`);
      }
      continue;
    }
    if (!known.has(key)) {
      const other = shape.hostField === "host" ? "hostname" : "host";
      const hint = key === other ? `the host goes in ${shape.hostField}` : HINTS[key];
      throw new TypeError(`unknown option ${describe(key)}${hint ? `: ${hint}` : ""}`);
    }
    if (key === shape.hostField) host = value; // kept apart: a delete would slow every later read of `race`
    else if ((shape.socket as readonly string[]).includes(key)) (socket ??= {})[key] = value;
    else if (shape.extra?.includes(key)) (extra ??= {})[key] = value;
    else race[key] = value;
  }
  rejectPortInHost(host, shape.hostField);
  race.hostname = host;
  race.port = portNumber(race.port);
  const checkedSocket = socket ? checkSocketOptions(socket) : NO_SOCKET_OPTIONS;
  const checked = race as CheckedOptions["race"];
  if (checkedSocket.localAddress !== undefined) {
    const family = parseIp(checkedSocket.localAddress)!.family;
    if (checked.family !== undefined && checked.family !== family) {
      throw new RangeError(
        `localAddress ${checkedSocket.localAddress} is IPv${family} but family is ${checked.family}`,
      );
    }
    checked.family = family; // an address of the other family cannot be dialled from it
  }
  return { race: checked, socket: checkedSocket, extra: extra ?? NO_EXTRA };
}

const NO_EXTRA: Record<string, unknown> = Object.freeze({});

/**
 * The commonest call, checked in one pass over the keys: an IP literal under the shape's host field and a port (a
 * number, or a string of digits), nothing else set. Undefined for anything else, which then gets the full checks:
 * every option they would reject or pass on makes this bail, so no error is decided here.
 */
function plainLiteral(options: unknown, shape: OptionShape): CheckedOptions | undefined {
  if (typeof options !== "object" || options === null) return undefined;
  const { hostField } = shape;
  let host: unknown;
  let port: unknown;
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key];
    if (key === hostField) host = value;
    else if (key === "port") port = value;
    else if (value !== undefined) return undefined;
  }
  if (typeof port === "string") port = DIGITS.test(port) ? Number(port) : undefined;
  if (typeof host !== "string" || typeof port !== "number" || !(port >= 1 && port <= 65535) || port % 1 !== 0) {
    return undefined;
  }
  const literal = parseIp(host);
  if (!literal) return undefined;
  return { race: { hostname: host, port }, host: { literal }, socket: NO_SOCKET_OPTIONS, extra: NO_EXTRA };
}

/** Every option name a shape takes, built once per shape (a connect is hot); createConnection filters by it. */
const knownByShape = new WeakMap<OptionShape, ReadonlySet<string>>();
export function knownOptions(shape: OptionShape): ReadonlySet<string> {
  let known = knownByShape.get(shape);
  if (!known) {
    known = new Set([shape.hostField, "port", ...RACE_KEYS, ...shape.socket, ...(shape.extra ?? [])]);
    knownByShape.set(shape, known);
  }
  return known;
}

/** A port as a string, as `net.connect` takes it. */
const DIGITS = /^\d{1,5}$/;

/** A port as `net.connect` takes it: a number or a string of digits. Other values go to the core's check. */
function portNumber(port: unknown): number {
  if (typeof port === "string" && DIGITS.test(port)) return Number(port);
  if (typeof port === "string") {
    throw new RangeError(`port must be a number from 1 to 65535 or a string of digits, got ${describe(port)}`);
  }
  return port as number;
}

/** `host: "example.com:443"` or `"[2001:db8::1]:443"`: the port belongs in `port`. */
function rejectPortInHost(host: unknown, field: string): void {
  if (typeof host !== "string" || !host.includes(":")) return; // both forms have a colon; most hosts have none
  const match = /^([^:[\]]+):(\d*)$/.exec(host) ?? /^\[([^\]]+)\]:(\d*)$/.exec(host);
  if (match) {
    throw new RangeError(
      `${field} ${describe(host)} includes a port: pass ${field}: ${describe(match[1])} and port: ${match[2] || "…"}`,
    );
  }
}

/** No socket options: what a dialer and `tune` get for a call that sets none. */
export const NO_SOCKET_OPTIONS: SocketOptions = Object.freeze({});

/** Type-checks the socket options that are set. */
function checkSocketOptions(options: Record<string, unknown>): SocketOptions {
  const { localAddress, noDelay, keepAlive, keepAliveInitialDelay } = options;
  if (
    localAddress === undefined && noDelay === undefined && keepAlive === undefined &&
    keepAliveInitialDelay === undefined
  ) return NO_SOCKET_OPTIONS;
  if (localAddress !== undefined) {
    if (typeof localAddress !== "string" || !parseIp(localAddress)) {
      throw new TypeError(`localAddress must be an IP address, got ${describe(localAddress)}`);
    }
  }
  for (const [name, value] of [["noDelay", noDelay], ["keepAlive", keepAlive]] as const) {
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`${name} must be true or false, got ${describe(value)}`);
    }
  }
  if (keepAliveInitialDelay !== undefined) requireDelay(keepAliveInitialDelay, "keepAliveInitialDelay");
  return {
    ...(localAddress !== undefined && { localAddress: parseIp(localAddress as string)!.address }),
    ...(noDelay !== undefined && { noDelay: noDelay as boolean }),
    ...(keepAlive !== undefined && { keepAlive: keepAlive as boolean }),
    ...(keepAliveInitialDelay !== undefined && { keepAliveInitialDelay: keepAliveInitialDelay as number }),
  };
}
