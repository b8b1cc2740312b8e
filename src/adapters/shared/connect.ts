/**
 * What every adapter's `connect` does: check the options under the
 * runtime's own names, fill in the runtime's default resolver and the host's
 * source addresses, run the core's race with the adapter's dialer, and set the
 * socket options on the winner.
 *
 * @module
 */

import { connectChecked, type Connected, type ConnectOptions } from "../../connect/connect.ts";
import { checkConnectOptions, type Host } from "../../connect/validate.ts";
import type { Clock, ConnectEvent, Dialer, Resolver } from "../../base/types.ts";
import { startTrace, type Trace } from "./tracing.ts";
import {
  checkAdapterOptions,
  type CheckedOptions,
  NO_SOCKET_OPTIONS,
  type OptionShape,
  type SocketOptions,
} from "./options.ts";
import { systemNetworkId, systemSourceAddresses } from "./source_addresses.ts";

/** One runtime's connection type: which options it takes, how it dials, how it applies socket options. */
export interface AdapterKind<Conn> {
  /** The options it takes. */
  readonly shape: OptionShape;
  /** The resolver used when the caller gives none. */
  readonly resolver: Resolver;
  /** A dialer for these options: the socket options needed per attempt (`localAddress`), TLS's for a TLS race. */
  dialer(checked: CheckedOptions): Dialer<Conn>;
  /** Applies `noDelay` and `keepAlive` to the winner. */
  tune(conn: Conn, socket: SocketOptions): void;
  /**
   * Schedules (does not run) what the first dial of a process would otherwise do first, so that it happens while a
   * name's lookup is on the wire rather than after its answer. Called for every connect to a name.
   */
  readonly warmUp?: () => void;
  /** The race's clock where the runtime has a cheaper one than the core's `systemClock` (Deno). */
  readonly clock?: Clock;
}

/**
 * The adapters' connect: the options checked once under the caller's names,
 * the runtime's defaults filled in (resolver, source addresses), then the
 * core's {@linkcode connectChecked}, and the socket options set on the
 * winner. `timeline` false gives the bare connection (an adapter's
 * `connect`), true the core's result (`connectWithTimeline`).
 */
export function connectWith<Conn, Timeline extends boolean>(
  options: unknown,
  kind: AdapterKind<Conn>,
  timeline: Timeline,
): Promise<Timeline extends true ? Connected<Conn> : Conn> {
  let checked: CheckedOptions;
  let settings: ConnectOptions<Conn>;
  let host: Host;
  try {
    checked = checkAdapterOptions(options, kind.shape);
    settings = withDefaults(checked, kind);
    host = checked.host ?? checkConnectOptions(settings, kind.shape.hostField);
  } catch (error) {
    return Promise.reject(error); // bad options reject, as from an async function
  }
  if (!host.literal) kind.warmUp?.();
  const trace = startTrace(String(checked.race.hostname), checked.race.port);
  let connected: Promise<Timeline extends true ? Connected<Conn> : Conn>;
  if (trace) {
    const full = connectChecked(traced(settings, trace), host, true, kind.clock);
    trace.settle(full);
    connected = (timeline ? full : full.then((c) => c.conn)) as typeof connected;
  } else {
    connected = connectChecked(settings, host, timeline, kind.clock);
  }
  if (checked.socket === NO_SOCKET_OPTIONS) return connected; // nothing to set on the winner
  return connected.then((result) => {
    tuneOrClose(timeline ? (result as Connected<Conn>).conn : result as Conn, checked.socket, settings.dialer, kind);
    return result;
  });
}

/** The race's outcome with what the caller asked for besides it. */
export interface ClientConnected<Conn> extends Connected<Conn> {
  /** The host as the caller gave it (SNI and error messages need the name, not the address). */
  readonly host: string;
  /** The options of `shape.extra` that were set (TLS options). */
  readonly extra: Record<string, unknown>;
}

/** {@linkcode connectWith} for TLS and the client shims, which also need the host as given and the extra options. */
export function connectForClient<Conn>(options: unknown, kind: AdapterKind<Conn>): Promise<ClientConnected<Conn>> {
  let prepared: PreparedConnect<Conn>;
  try {
    prepared = prepareConnect(options, kind);
  } catch (error) {
    return Promise.reject(error);
  }
  return connectPrepared(prepared);
}

/** A connect whose options are checked and filled in, not yet started. */
export interface PreparedConnect<Conn> {
  readonly kind: AdapterKind<Conn>;
  readonly checked: CheckedOptions;
  /** The core's options; a caller may still set `signal` (a factory that owns the race's cancellation). */
  readonly settings: ConnectOptions<Conn> & { signal?: AbortSignal };
  readonly host: Host;
}

/**
 * Checks `options` once and fills in the runtime's defaults, throwing a TypeError or RangeError naming the field:
 * for a socket factory that must throw at once, as `net.createConnection` does, and connect later.
 */
export function prepareConnect<Conn>(options: unknown, kind: AdapterKind<Conn>): PreparedConnect<Conn> {
  const checked = checkAdapterOptions(options, kind.shape);
  const settings = withDefaults(checked, kind);
  const host = checked.host ?? checkConnectOptions(settings, kind.shape.hostField);
  return { kind, checked, settings, host };
}

/** Runs a prepared connect; the winner gets the socket options. */
export async function connectPrepared<Conn>(prepared: PreparedConnect<Conn>): Promise<ClientConnected<Conn>> {
  const { kind, checked, settings, host } = prepared;
  if (!host.literal) kind.warmUp?.();
  const trace = startTrace(String(checked.race.hostname), checked.race.port);
  const raced = connectChecked(trace ? traced(settings, trace) : settings, host, true, kind.clock);
  trace?.settle(raced);
  const connected = await raced;
  tuneOrClose(connected.conn, checked.socket, settings.dialer, kind);
  return { ...connected, host: checked.race.hostname as string, extra: checked.extra };
}

/** The race settings with the runtime's dialer, resolver, source addresses and network where the caller set none. */
function withDefaults<Conn>(checked: CheckedOptions, kind: AdapterKind<Conn>): ConnectOptions<Conn> {
  const race = checked.race; // ours (a fresh object): filled in rather than copied
  if (!("resolver" in race)) race.resolver = kind.resolver;
  if (!("sourceAddresses" in race)) race.sourceAddresses = systemSourceAddresses();
  // History's partition, read only when history asks for it: an IP literal's connect never does (it costs a fresh
  // process a few ms to read the routes and hash the prefixes).
  if (!("network" in race)) {
    Object.defineProperty(race, "network", { get: () => systemNetworkId(), enumerable: true, configurable: true });
  }
  race.dialer = kind.dialer(checked);
  return race as unknown as ConnectOptions<Conn>;
}

/** Sets the socket options on the winner; a winner that refuses them is closed, not leaked. */
function tuneOrClose<Conn>(conn: Conn, socket: SocketOptions, dialer: Dialer<Conn>, kind: AdapterKind<Conn>): void {
  if (socket === NO_SOCKET_OPTIONS) return;
  try {
    kind.tune(conn, socket);
  } catch (error) {
    dialer.close(conn);
    throw error;
  }
}

/** The settings with the trace told of every event before the caller's own `onEvent`. */
function traced<Conn>(settings: ConnectOptions<Conn>, trace: Trace): ConnectOptions<Conn> {
  const own = settings.onEvent;
  const onEvent = own
    ? (event: ConnectEvent) => {
      trace.onEvent(event);
      own(event);
    }
    : trace.onEvent;
  return { ...settings, onEvent };
}
