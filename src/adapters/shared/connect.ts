/**
 * What every adapter's `connect` does: check the options under the
 * runtime's own names, fill in the runtime's default resolver and the host's
 * source addresses, run the core's race with the adapter's dialer, and set the
 * socket options on the winner.
 *
 * @module
 */

import { connectAs, type Connected, dialLiteral, nat64Possible } from "../../connect/connect.ts";
import { selectorFor } from "../../addresses/rfc6724.ts";
import { systemClock } from "../../race/clock.ts";
import type { Dialer, Resolver } from "../../base/types.ts";
import {
  checkAdapterOptions,
  type CheckedOptions,
  NO_SOCKET_OPTIONS,
  type OptionShape,
  plainLiteralTarget,
  type SocketOptions,
} from "./options.ts";
import { systemNetworkId, systemSourceAddresses } from "./source_addresses.ts";

/** One runtime's connection type: which options it takes, how it dials, how it applies socket options. */
export interface AdapterKind<Conn> {
  /** The options it takes. */
  readonly shape: OptionShape;
  /** The resolver used when the caller gives none. */
  readonly resolver: Resolver;
  /** A dialer that honours the socket options needed per attempt (`localAddress`). */
  dialer(socket: SocketOptions): Dialer<Conn>;
  /** Applies `noDelay` and `keepAlive` to the winner. */
  tune(conn: Conn, socket: SocketOptions): void;
}

/** The race's outcome with what the caller asked for besides it. */
export interface AdapterConnected<Conn> extends Connected<Conn> {
  /** The host as the caller gave it (SNI and error messages need the name, not the address). */
  readonly host: string;
  /** The options of `shape.extra` that were set (TLS options). */
  readonly extra: Record<string, unknown>;
}

/**
 * Connects to the host named by `options[kind.shape.hostField]` and
 * `options.port`; errors name the fields as the caller spelled them.
 */
export function adapterConnect<Conn>(options: unknown, kind: AdapterKind<Conn>): Promise<AdapterConnected<Conn>> {
  return raceWith(options, kind, ({ conn, address, family, port, ms, attempts, endpoint }, host, extra) => {
    // Named: a spread here cost 1.7 µs (Node 20). The HTTPS endpoint (ALPN, ECH) only when there is one.
    if (endpoint) return { conn, address, family, port, ms, attempts, endpoint, host, extra };
    return { conn, address, family, port, ms, attempts, host, extra };
  });
}

/** {@linkcode adapterConnect} for the callers of `connect`, who only want the connection: no result object. */
export function adapterConn<Conn>(options: unknown, kind: AdapterKind<Conn>): Promise<Conn> {
  return dialPlain(options, kind, false) ?? raceWith(options, kind, connOf);
}

/** {@linkcode adapterConnect} for `connectWithTimeline`: the core's result as it is. */
export function adapterTimeline<Conn>(options: unknown, kind: AdapterKind<Conn>): Promise<Connected<Conn>> {
  return dialPlain(options, kind, true) ?? raceWith(options, kind, asItIs);
}

/**
 * The commonest call, `{ host, port }` to an IP literal with nothing else set, as its one dial: what the full path
 * below ends in for it (the core's `dialLiteral`), without the option bag, the core's checks and the socket options
 * it does not need. Undefined for any other call, and for an IPv4 literal on a host that could need NAT64 to reach it
 * (the core decides that with the default source addresses, as for any connect). One clock read serves both.
 */
function dialPlain<Conn, Timeline extends boolean>(
  options: unknown,
  kind: AdapterKind<Conn>,
  timeline: Timeline,
): Promise<Timeline extends true ? Connected<Conn> : Conn> | undefined {
  const target = plainLiteralTarget(options, kind.shape);
  if (target === undefined) return undefined;
  const now = systemClock.now();
  if (target.family === 4) { // NAT64 is for IPv4 literals only
    const sources = systemSourceAddresses(now);
    if (sources.length && nat64Possible(NO_SETTINGS, { literal: target }, selectorFor(sources))) return undefined;
  }
  return dialLiteral(kind.dialer(NO_SOCKET_OPTIONS), target, systemClock, now, timeline);
}

const NO_SETTINGS = Object.freeze({});

// Made once, not per call: a pending connect keeps its `pick` alive.
const connOf = <Conn>(connected: Connected<Conn>): Conn => connected.conn;
const asItIs = <Conn>(connected: Connected<Conn>): Connected<Conn> => connected;

/**
 * The adapters' connect, handing the tuned winner to `pick`. Written with `.then` rather than as an async function,
 * like the core's literal path (connect.ts `dialLiteral`, which says what that saves).
 */
function raceWith<Conn, Result>(
  options: unknown,
  kind: AdapterKind<Conn>,
  pick: (connected: Connected<Conn>, host: string, extra: Record<string, unknown>) => Result,
): Promise<Result> {
  let checked: CheckedOptions;
  let dialer: Dialer<Conn>;
  try {
    checked = checkAdapterOptions(options, kind.shape);
    dialer = kind.dialer(checked.socket);
  } catch (error) {
    return Promise.reject(error); // bad options reject, as from an async function
  }
  const { race, socket, extra } = checked;
  // Defaults under the caller's settings: the runtime's resolver, the host's source addresses (RFC 6724 order,
  // NAT64 detection). `race` is ours (a fresh object), so it is filled in rather than copied.
  if (!("resolver" in race)) race.resolver = kind.resolver;
  if (!("sourceAddresses" in race)) race.sourceAddresses = systemSourceAddresses();
  if (!("network" in race)) race.network = systemNetworkId(); // history's partition
  race.dialer = dialer;
  const settings = race as unknown as Parameters<typeof connectAs<Conn>>[0];
  return connectAs(settings, kind.shape.hostField).then((connected) => {
    try {
      kind.tune(connected.conn, socket);
    } catch (error) {
      dialer.close(connected.conn);
      throw error;
    }
    return pick(connected, race.hostname as string, extra);
  });
}
