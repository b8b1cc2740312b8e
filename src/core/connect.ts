/**
 * `connect`: checks the options, resolves the name, runs the race, and turns
 * its outcome into a connection or one clear error.
 *
 * @module
 */

import { AttemptError, ConnectError } from "./errors.ts";
import { type Resolution, RESOLUTION_DELAY, resolveInto } from "./resolve.ts";
import { race } from "./race.ts";
import { defaultSchedule, type Schedule } from "./schedule.ts";
import { otherFamily } from "./ip.ts";
import { AddressQueue } from "./queue.ts";
import { systemClock } from "./timer.ts";
import type { Attempt, Clock, ConnectEvent, Dialer, Family, Resolver } from "./types.ts";
import { checkConnectOptions } from "./validate.ts";

/**
 * The default for `maxAttemptsInFlight`: at most this many attempts connect
 * at the same time.
 *
 * @example
 * ```ts
 * import { MAX_ATTEMPTS_IN_FLIGHT, type RaceSettings } from "@eyeballs/connect";
 * const settings: RaceSettings = { maxAttemptsInFlight: MAX_ATTEMPTS_IN_FLIGHT * 2 };
 * ```
 */
export const MAX_ATTEMPTS_IN_FLIGHT = 8;

/**
 * Tuning shared by the core and every adapter. All fields are optional.
 *
 * @example
 * ```ts
 * import { fixedDelay, type RaceSettings } from "@eyeballs/connect";
 * const settings: RaceSettings = { schedule: fixedDelay(250), timeout: 10_000 };
 * ```
 */
export interface RaceSettings {
  /** Delay between attempt starts. Default {@linkcode defaultSchedule} (halving from 500 ms, floor 10 ms). */
  readonly schedule?: Schedule;
  /** How long an IPv4 answer waits for the IPv6 one, in ms (RFC 8305: 50). */
  readonly resolutionDelay?: number;
  /** Addresses of the preferred family tried before the first of the other (RFC 8305: 1). */
  readonly firstAddressFamilyCount?: number;
  /** The family tried first. Default 6. */
  readonly preferredFamily?: Family;
  /** Only use this family. Default: both. */
  readonly family?: Family;
  /** At most this many attempts connecting at once. Default 8. */
  readonly maxAttemptsInFlight?: number;
  /** Gives up after this many ms in all, resolution included; the error names every address. Default: none. */
  readonly timeout?: number;
  /** Aborts the connect: every socket is released and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Told of every resolution, attempt and timer event as it happens. Exceptions it throws are ignored. */
  readonly onEvent?: (event: ConnectEvent) => void;
  /** The clock; tests inject a fake one. */
  readonly clock?: Clock;
}

/** Everything `connect` needs: where to, how to dial, how to resolve. */
export interface ConnectOptions<Conn> extends RaceSettings {
  /** A DNS name or an IP literal (IPv6 may be bracketed). Literals skip resolution. */
  readonly hostname: string;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
  /** Dials one address. */
  readonly dialer: Dialer<Conn>;
  /** Resolves names; required unless `hostname` is an IP literal. */
  readonly resolver?: Resolver;
}

/**
 * A connection and how it was won.
 *
 * @example
 * ```ts
 * import type { Connected } from "@eyeballs/connect";
 * const summary = (c: Connected<unknown>) => `${c.address} in ${c.ms.toFixed(0)} ms`;
 * ```
 */
export interface Connected<Conn> {
  /** The open connection: the caller now owns it. */
  readonly conn: Conn;
  /** The address it is connected to. */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** The port. */
  readonly port: number;
  /** Milliseconds from the call to the connection, resolution included. */
  readonly ms: number;
  /** The race's timeline: every attempt in start order. */
  readonly attempts: readonly Attempt[];
}

/**
 * Connects to `hostname:port` the Happy Eyeballs way, through any dialer.
 * Adapters wrap this for each runtime; use it directly with your own
 * {@linkcode Dialer} and {@linkcode Resolver}.
 *
 * Throws a TypeError or RangeError naming the field for bad options, before
 * anything is dialled; a {@linkcode ConnectError} when no address connects
 * (or `timeout` passes); the signal's reason when `signal` aborts.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect";
 * const { conn, address, attempts } = await connect({
 *   hostname: "dual.example", port: 443,
 *   resolver: { resolve: (_n, f) => Promise.resolve(f === 6 ? ["2001:db8::1"] : ["192.0.2.1"]) },
 *   dialer: {
 *     dial: (t) => t.family === 4 ? Promise.resolve(`socket to ${t.address}`) : Promise.reject(new Error("unreachable")),
 *     close: () => {},
 *   },
 * });
 * // address === "192.0.2.1", attempts.length === 2
 * ```
 */
export function connect<Conn>(options: ConnectOptions<Conn>): Promise<Connected<Conn>> {
  return connectAs(options, "hostname");
}

/**
 * {@linkcode connect}, with the host field named `hostField` in errors, as
 * an adapter's caller spelled it. For adapters, not exported by the package.
 */
export async function connectAs<Conn>(options: ConnectOptions<Conn>, hostField: string): Promise<Connected<Conn>> {
  const host = checkConnectOptions(options, hostField);
  const hostname = host.literal ? host.literal.address : host.name;
  const { port } = options;
  const clock = options.clock ?? systemClock;
  const preferredFamily = options.preferredFamily ?? 6;
  const startedAt = clock.now();
  const emit = (event: ConnectEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A broken observer must not break the connect.
    }
  };

  // One signal ends everything: the caller's abort, the timeout, or the end of the race. With
  // none of them (an IP literal, no timeout, no signal) there is no controller at all: signals are
  // costly on Node and Bun (bench/RESULTS-overhead-first-scale-dns.md).
  const cancellable = options.timeout !== undefined || options.signal !== undefined || !host.literal;
  const controller = cancellable ? new AbortController() : undefined;
  let timedOut: Error | undefined;
  const onAbort = () => controller!.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const cancelTimeout = options.timeout === undefined ? () => {} : clock.setTimer(() => {
    timedOut = Object.assign(new Error(`timed out after ${options.timeout} ms`), { name: "TimeoutError" });
    controller!.abort(timedOut);
  }, options.timeout);

  const queue = new AddressQueue(port, {
    preferredFamily,
    firstAddressFamilyCount: options.firstAddressFamilyCount ?? 1,
  });
  let resolution: Resolution | undefined;
  if (host.literal) {
    queue.add(host.literal.family, [host.literal.address]);
    queue.end();
  } else {
    resolution = resolveInto(queue, {
      hostname,
      families: options.family ? [options.family] : [preferredFamily, otherFamily(preferredFamily)],
      resolver: options.resolver!,
      resolutionDelay: options.resolutionDelay ?? RESOLUTION_DELAY,
      signal: controller!.signal,
      clock,
      startedAt,
      emit,
    });
  }

  try {
    const result = await race({
      dialer: options.dialer,
      queue,
      schedule: options.schedule ?? defaultSchedule,
      maxAttemptsInFlight: options.maxAttemptsInFlight ?? MAX_ATTEMPTS_IN_FLIGHT,
      signal: controller?.signal,
      clock,
      startedAt,
      emit,
    });
    if (result.error !== undefined) throw result.error;
    if (result.winner) {
      const { conn, attempt } = result.winner;
      const { address, family } = attempt;
      return { conn, address, family, port, ms: clock.now() - startedAt, attempts: result.attempts };
    }
    if (options.signal?.aborted) throw options.signal.reason;
    const resolveErrors = resolution?.failures() ?? [];
    const attemptErrors = result.attempts.map((a) => new AttemptError(a.address, a.family, port, a.error));
    const why = timedOut?.message;
    throw new ConnectError(hostname, port, [...resolveErrors, ...attemptErrors], result.attempts, why);
  } finally {
    cancelTimeout();
    options.signal?.removeEventListener("abort", onAbort);
    if (resolution) controller!.abort(CONNECT_OVER); // stops lookups still running
  }
}

/** Why lookups still running are stopped once the connect is decided (made once: it is costly on Node). */
const CONNECT_OVER = new DOMException("the connect is over", "AbortError");
