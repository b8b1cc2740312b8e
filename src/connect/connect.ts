/**
 * `connect`: checks the options, resolves the name, runs the race, and turns
 * its outcome into a connection or one clear error.
 *
 * @module
 */

import { AttemptError, ConnectError } from "../base/errors.ts";
import { type Resolution, resolveInto, type ServiceLookup } from "./resolve.ts";
import { dialSafely, emptyDialError, NEVER_ABORTED, race } from "../race/race.ts";
import { defaultSchedule, MAX_ATTEMPTS_IN_FLIGHT, RESOLUTION_DELAY, type Schedule } from "../race/schedule.ts";
import {
  defaultHistory,
  type History,
  type HostHistory,
  MemoryHistory,
  type NetworkRtt,
  outcomesOf,
} from "../history/history.ts";
import {
  HISTORY_WAIT,
  historyFamily,
  historyRank,
  historySchedule,
  knowsRtt,
  networkSchedule,
} from "../history/in_race.ts";
import { AddressQueue, thenBy } from "../race/queue.ts";
import { systemClock } from "../race/clock.ts";
import {
  type Attempt,
  type Clock,
  type ConnectEvent,
  type Dialer,
  otherFamily,
  type Resolver,
  type Target,
} from "../base/types.ts";
import { checkConnectOptions, type Host } from "./validate.ts";
import { checkAddress, nat64Translatable, policyResolver, seeThroughNat64 } from "../addresses/policy.ts";
import { type AddressSelector, selectorFor } from "../addresses/rfc6724.ts";
import {
  discoverNat64Prefix,
  type Nat64Prefix,
  nat64Resolver,
  parseNat64Prefix,
  synthesizeNat64,
} from "../addresses/nat64.ts";

import type { Connected, ConnectOptions, RaceSettings } from "./options.ts";
export type { Connected, ConnectOptions, RaceSettings };

/**
 * Connects to `hostname:port` the Happy Eyeballs way, through any dialer.
 * Adapters wrap this for each runtime; use it directly with your own
 * {@linkcode Dialer} and {@linkcode Resolver}.
 *
 * Throws a TypeError or RangeError naming the field for bad options, before
 * anything is dialled; a {@linkcode ConnectError} when no address connects
 * (or `timeout` passes); the signal's reason when `signal` aborts, or had
 * already aborted.
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
  let host: Host;
  try {
    host = checkConnectOptions(options, "hostname");
  } catch (error) {
    return Promise.reject(error); // bad options reject, as from an async function
  }
  return connectChecked(options, host, true);
}

/**
 * {@linkcode connect} on options already checked (`host` is what the check
 * returned). This is the one place that decides whether a connect needs the
 * race: an IP literal that nothing can cut short, watch, refuse or translate
 * is one dial. `timeline` false gives the bare connection; `realClock` is
 * the clock when the caller sets none (an adapter's runtime may have a
 * cheaper one than {@linkcode systemClock}). For adapters, not exported by
 * the package.
 */
export function connectChecked<Conn, Timeline extends boolean>(
  options: ConnectOptions<Conn>,
  host: Host,
  timeline: Timeline,
  realClock: Clock = systemClock,
): Promise<Timeline extends true ? Connected<Conn> : Conn> {
  type Result = Timeline extends true ? Connected<Conn> : Conn;
  let selector: AddressSelector | undefined;
  try {
    selector = options.sourceAddresses?.length ? selectorFor(options.sourceAddresses) : undefined;
  } catch (error) {
    return Promise.reject(error);
  }
  const clock = options.clock ?? realClock;
  const literal = host.literal;
  if (
    literal && options.timeout === undefined && options.signal === undefined && !options.onEvent &&
    !options.addressPolicy && !nat64Possible(options, host, selector)
  ) {
    return dialOnce(
      options.dialer,
      { address: literal.address, family: literal.family, port: options.port },
      clock,
      timeline,
    );
  }
  const raced = raceFor(options, host, selector, clock, clock.now());
  return (timeline ? raced : raced.then(connOf)) as Promise<Result>;
}

/** NAT64 only on a host with IPv6 but no IPv4 route, for a name or an IPv4 literal: nothing on a dual-stack host. */
function nat64Possible(options: RaceSettings, host: Host, selector: AddressSelector | undefined): boolean {
  return selector !== undefined && selector.hasIPv6Route && !selector.hasIPv4Route &&
    options.family === undefined && options.nat64Prefix !== false && (!host.literal || host.literal.family === 4);
}

const connOf = <Conn>(connected: Connected<Conn>): Conn => connected.conn;

/** The connect with all of its machinery: resolution, history, policy, NAT64, the race, timeout and signal. */
async function raceFor<Conn>(
  options: ConnectOptions<Conn>,
  host: Host,
  selector: AddressSelector | undefined,
  clock: Clock,
  startedAt: number,
): Promise<Connected<Conn>> {
  if (options.signal?.aborted) throw options.signal.reason; // fired before the call: nothing happens
  const hostname = host.literal ? host.literal.address : host.name;
  const { port } = options;
  let settled = false; // no event once the promise has settled
  const { onEvent } = options;
  // Called as `emit?.(…)`: with no observer no event object is built.
  const emit = onEvent && ((event: ConnectEvent) => {
    if (settled) return;
    try {
      onEvent(event);
    } catch {
      // A broken observer must not break the connect.
    }
  });
  // History is per name: an IP literal has one address and nothing to learn. The default store
  // measures in real time, so a race on an injected clock only uses a store it is given.
  const history = host.name === undefined
    ? undefined
    : options.history ?? (options.clock === undefined ? defaultHistory : undefined);
  // One host for history whether named absolute ("db.") or not; the resolver is what tells them apart.
  const historyHost = host.name?.toLowerCase().replace(/\.$/, "");
  // One signal ends everything: the caller's abort, the timeout, or the end of the race. With
  // none of them (an IP literal, no timeout, no signal) there is no controller at all: signals are
  // costly on Node and Bun (docs/performance.md).
  const cancellable = options.timeout !== undefined || options.signal !== undefined || !host.literal;
  const controller = cancellable ? new AbortController() : undefined;
  let timedOut: Error | undefined;
  const onAbort = () => controller!.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const cancelTimeout = options.timeout === undefined ? () => {} : clock.setTimer(() => {
    timedOut = Object.assign(new Error(`timed out after ${options.timeout} ms`), { name: "TimeoutError" });
    controller!.abort(timedOut);
  }, options.timeout);

  const network = networkReader(options, clock);
  // A store that knows nothing on any network needs no network to say so: the record reads it later (below).
  const asked = history && !knowsNothing(history) ? history : undefined;
  const found = asked ? lookupSafely(asked, historyHost!, port, network.get()) : undefined;
  // The in-memory store answers without an await; an async one gets HISTORY_WAIT, and the timeout and signal count.
  const known = isPromiseLike(found) ? await storeAnswer(found, controller!.signal, clock) : found;
  // A host whose RTT history does not know, under the default schedule, starts from the network's RTTs.
  const fromNetwork = asked && options.schedule === undefined && !knowsRtt(known)
    ? networkRttSafely(asked, network.get())
    : undefined;
  const networkRtt = isPromiseLike(fromNetwork)
    ? await storeAnswer(fromNetwork, controller!.signal, clock)
    : fromNetwork;
  if (controller?.signal.aborted) {
    cancelTimeout();
    options.signal?.removeEventListener("abort", onAbort);
    if (options.signal?.aborted) throw options.signal.reason;
    throw new ConnectError(hostname, port, [], [], timedOut?.message, timedOut !== undefined);
  }
  // The family that leads, decided before any answer arrives (the Resolution Delay holds the other): the family
  // history saw win, else the caller's choice, else RFC 6724's (rules 1/2: no global IPv6 source), else IPv6.
  const byHistory = known && historyRank(known);
  const preferredFamily = (known && historyFamily(known, byHistory!)) ?? options.preferredFamily ??
    selector?.leadingFamily ?? 6;
  if (emit && byHistory && known.addresses.length) { // sorted for an observer only
    const addresses = [...known.addresses].sort((a, b) => byHistory(a.address, b.address));
    emit({ type: "history-order", atMs: clock.now() - startedAt, preferredFamily, addresses });
  }

  const queue = new AddressQueue(port, {
    preferredFamily,
    firstAddressFamilyCount: options.firstAddressFamilyCount ?? 1,
    // Precedence: history's rank before RFC 6724's, then the resolver's order (ties); then the queue's First
    // Address Family Count interleave. An explicit preferredFamily keeps the lead: RFC 6724 then only orders
    // within each family.
    rank: thenBy(
      byHistory,
      selector && rfc6724Rank(selector, options.preferredFamily === undefined),
    ),
  });
  const refused = new Map<string, AttemptError>();
  const refuse = (error: AttemptError) => {
    if (refused.has(error.address)) return;
    refused.set(error.address, error);
    const { address, family } = error;
    emit?.({ type: "address-refused", atMs: clock.now() - startedAt, address, family, reason: error.message });
  };
  const nat64 = nat64Possible(options, host, selector)
    ? await nat64PrefixOf(options, clock, controller?.signal ?? new AbortController().signal) // a bare literal: nothing aborts
    : undefined;
  // The policy also sees the IPv4 address inside the prefix in use (a DNS64 answer under a network-specific prefix).
  const policy = options.addressPolicy && nat64 ? seeThroughNat64(options.addressPolicy, nat64) : options.addressPolicy;
  let resolution: Resolution | undefined;
  if (host.literal) {
    let { family, address } = host.literal;
    const original = policy && checkAddress(policy, address, family, port);
    if (nat64 && family === 4 && nat64Translatable(address, nat64)) {
      [family, address] = [6, synthesizeNat64(address, nat64)];
    }
    const refusal = original ?? (policy && checkAddress(policy, address, family, port));
    if (refusal) refuse(refusal);
    else queue.add(family, [address]);
    queue.end();
  } else {
    let resolver = options.resolver!;
    if (policy) resolver = policyResolver(resolver, policy, port, refuse);
    if (nat64) resolver = nat64Resolver(resolver, nat64, (a) => nat64Translatable(a, nat64));
    if (policy && nat64) resolver = policyResolver(resolver, policy, port, refuse); // the synthesized forms too
    resolution = resolveInto(queue, {
      hostname,
      families: options.family ? [options.family] : nat64 ? [6] : [preferredFamily, otherFamily(preferredFamily)],
      resolver,
      resolutionDelay: options.resolutionDelay ?? RESOLUTION_DELAY,
      signal: controller!.signal,
      clock,
      startedAt,
      emit: emit ?? ignore,
      services: serviceLookup(options, hostname, port, policy, nat64),
    });
  }

  let schedule: Schedule = options.schedule ?? defaultSchedule;
  if (networkRtt) { // a host never measured, on a network whose RTTs history knows (never with the caller's schedule)
    let told = false;
    schedule = networkSchedule(schedule, networkRtt, (change) => {
      if (!told) emit?.({ type: "network-delay", atMs: clock.now() - startedAt, ...change });
      told = true;
    });
  }
  let raceEmit = emit;
  if (history && !asked) { // not read for a lookup: read for the record while the first handshake is on the wire
    const observer = raceEmit;
    raceEmit = (event) => {
      if (event.type === "attempt-start") network.readSoon(() => settled);
      observer?.(event);
    };
  }
  if (known) { // the delay after starting an address with a measured RTT comes from that RTT
    let lastStarted: string | undefined;
    raceEmit = (event) => {
      if (event.type === "attempt-start") lastStarted = event.attempt.address;
      emit?.(event);
    };
    schedule = historySchedule(schedule, known, () => lastStarted, (change) => {
      emit?.({ type: "history-delay", atMs: clock.now() - startedAt, ...change });
    });
  }

  try {
    const result = await race({
      dialer: options.dialer,
      queue,
      schedule,
      maxAttemptsInFlight: options.maxAttemptsInFlight ?? MAX_ATTEMPTS_IN_FLIGHT,
      signal: controller?.signal,
      clock,
      startedAt,
      emit: raceEmit,
    });
    // A race the caller narrowed (one family, or a policy that refused addresses) says nothing about the network:
    // IPv4 winning where IPv6 was never tried must not make later connects lead with IPv4.
    if (history && options.family === undefined && refused.size === 0) {
      const outcomes = outcomesOf(result.attempts, controller?.signal.aborted === true);
      recordSafely(history, historyHost!, port, outcomes, network.getSafely);
    }
    if (result.error !== undefined) throw result.error;
    if (result.winner) {
      const { conn, attempt } = result.winner;
      const { address, family } = attempt;
      const endpoint = resolution?.endpointOf(address);
      const ms = clock.now() - startedAt;
      if (endpoint) return { conn, address, family, port: attempt.port, ms, attempts: result.attempts, endpoint };
      return { conn, address, family, port, ms, attempts: result.attempts };
    }
    if (options.signal?.aborted) throw options.signal.reason;
    const resolveErrors = resolution?.failures() ?? [];
    const attemptErrors = result.attempts.map((a) => new AttemptError(a.address, a.family, port, a.error));
    const why = timedOut?.message;
    const errors = [...resolveErrors, ...refused.values(), ...attemptErrors];
    throw new ConnectError(hostname, port, errors, result.attempts, why, timedOut !== undefined);
  } finally {
    cancelTimeout();
    network.cancel();
    options.signal?.removeEventListener("abort", onAbort);
    // Stops lookups and the Resolution Delay; once they are over nothing listens, and an abort is costly on Node.
    if (resolution && !resolution.settled) controller!.abort(CONNECT_OVER);
    settled = true;
  }
}

/**
 * The race of a single address that nothing can cut short and nobody watches: the dial itself, with the race's
 * result and errors but none of its machinery (queue, controllers, timers), which one address does not need. A
 * `.then` rather than an async function: a suspended async function keeps its frame alive while the connect is
 * pending (docs/performance.md).
 */
function dialOnce<Conn, Timeline extends boolean>(
  dialer: Dialer<Conn>,
  target: Target,
  clock: Clock,
  timeline: Timeline,
): Promise<Timeline extends true ? Connected<Conn> : Conn> {
  const startedAt = clock.now();
  return dialSafely(dialer, target, NEVER_ABORTED).then((conn) => {
    const empty = emptyDialError(conn);
    if (empty) return literalFailed(target, clock.now() - startedAt, empty);
    if (!timeline) return conn;
    const { address, family, port } = target;
    const ms = clock.now() - startedAt;
    const attempt: Attempt = { address, family, port, index: 0, startMs: 0, outcome: "won", endMs: ms };
    return { conn, address, family, port, ms, attempts: [attempt] };
  }, (error) => literalFailed(target, clock.now() - startedAt, error)) as Promise<
    Timeline extends true ? Connected<Conn> : Conn
  >;
}

/** The ConnectError of a literal's one failed dial: the race's error and timeline (started at 0, in the same turn). */
function literalFailed(target: Target, endMs: number, error: unknown): never {
  const { address, family, port } = target;
  const attempt: Attempt = { address, family, port, index: 0, startMs: 0, outcome: "failed", endMs, error };
  throw new ConnectError(address, port, [new AttemptError(address, family, port, error)], [attempt]);
}

/** The caller's `network`, read at most once: the adapters' is a getter that reads the route tables. */
function networkReader(options: RaceSettings, clock: Clock) {
  let value: string | undefined;
  let read = false;
  let cancelTimer: (() => void) | undefined;
  const get = () => {
    if (!read) {
      value = options.network;
      read = true;
    }
    return value;
  };
  /** A getter that throws names no network. */
  const getSafely = () => {
    try {
      return get();
    } catch {
      read = true;
      return undefined;
    }
  };
  return {
    get,
    getSafely,
    /**
     * Reads it in a later turn, once. The timer is set from a microtask so that a dial started in this turn goes
     * first (Deno loads a module at its first timer), and it fires after the runtime has sent the SYN (Bun sends it
     * in a later task).
     */
    readSoon(over: () => boolean) {
      if (cancelTimer) return;
      cancelTimer = () => {};
      queueMicrotask(() => {
        if (!over()) cancelTimer = clock.setTimer(getSafely, 0);
      });
    },
    cancel: () => cancelTimer?.(),
  };
}

/** A plain {@linkcode MemoryHistory} that holds nothing: its answer is "nothing known" on every network. */
function knowsNothing(history: History): boolean {
  return Object.getPrototypeOf(history) === MemoryHistory.prototype && (history as MemoryHistory).networks === 0;
}

/** `history.lookup`, awaited only when it returns a promise; a store that throws or rejects knows nothing. */
function lookupSafely(
  history: History,
  host: string,
  port: number,
  network: string | undefined,
): HostHistory | undefined | Promise<HostHistory | undefined> {
  try {
    // The network only when known: a store of two parameters sees the calls it always saw.
    const found = network === undefined ? history.lookup(host, port) : history.lookup(host, port, network);
    return isPromiseLike(found) ? Promise.resolve(found).then(checkedHistory, () => undefined) : checkedHistory(found);
  } catch {
    return undefined;
  }
}

/** `history.networkRtt`, if the store has it; a store that throws or rejects knows nothing. */
function networkRttSafely(
  history: History,
  network: string | undefined,
): NetworkRtt | undefined | Promise<NetworkRtt | undefined> {
  if (typeof history.networkRtt !== "function") return undefined;
  try {
    const found = network === undefined ? history.networkRtt() : history.networkRtt(network);
    return isPromiseLike(found) ? Promise.resolve(found).then(checkedRtt, () => undefined) : checkedRtt(found);
  } catch {
    return undefined;
  }
}

/** A store's RTT summary, if it has the shape a race can use. */
function checkedRtt(found: unknown): NetworkRtt | undefined {
  const rtt = found as NetworkRtt | undefined;
  const ms = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  return typeof rtt === "object" && rtt !== null && ms(rtt.srttMs) && ms(rtt.rttvarMs) ? rtt : undefined;
}

/** A store's answer, or undefined once it has had HISTORY_WAIT or the connect was aborted: history is a hint. */
function storeAnswer<T>(
  found: PromiseLike<T | undefined>,
  signal: AbortSignal,
  clock: Clock,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const done = (known?: T) => {
      cancelWait();
      signal.removeEventListener("abort", onAbort);
      resolve(known);
    };
    const onAbort = () => done();
    const cancelWait = clock.setTimer(() => done(), HISTORY_WAIT);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(found).then(done, () => done());
  });
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | undefined)?.then === "function";
}

/** A store's answer, if it has the shape a race can use; anything else is no history. */
function checkedHistory(found: unknown): HostHistory | undefined {
  const addresses = (found as HostHistory | undefined)?.addresses;
  if (!Array.isArray(addresses)) return undefined;
  const ok = addresses.every((k) => typeof k === "object" && k !== null && typeof k.address === "string");
  return ok ? found as HostHistory : undefined;
}

/** `history.record`, not awaited; a store that throws or rejects is ignored. */
function recordSafely(
  history: History,
  host: string,
  port: number,
  outcomes: ReturnType<typeof outcomesOf>,
  networkOf: () => string | undefined,
): void {
  if (outcomes.length === 0) return;
  const network = networkOf();
  try {
    const done = network === undefined
      ? history.record(host, port, outcomes)
      : history.record(host, port, outcomes, network);
    if (isPromiseLike(done)) Promise.resolve(done).catch(() => {});
  } catch {
    // History is a hint: losing one lesson must not fail a connect that succeeded.
  }
}

/**
 * The HTTPS/SVCB lookup for this connect, when the caller's resolver has one. Not with an address policy or NAT64:
 * hint addresses would bypass them (the race then runs on A and AAAA, as with getaddrinfo).
 */
function serviceLookup(
  options: RaceSettings & { readonly resolver?: Resolver },
  hostname: string,
  port: number,
  policy: unknown,
  nat64: unknown,
): ServiceLookup | undefined {
  const resolver = options.resolver;
  if (!resolver?.resolveServices || policy || nat64) return undefined;
  const { scheme, alpn } = options;
  const lookup = (signal: AbortSignal) => resolver.resolveServices!(hostname, port, signal, scheme);
  return { lookup, port, alpn, defaultAlpn: scheme === undefined || scheme === "https" ? "http/1.1" : undefined };
}

/** RFC 6724's order as the queue's rank; `acrossFamilies` false keeps it within each family. */
function rfc6724Rank(
  selector: AddressSelector,
  acrossFamilies: boolean,
): (a: string, b: string) => number {
  if (acrossFamilies) return (a, b) => selector.compare(a, b);
  return (a, b) => (a.includes(":") === b.includes(":") ? selector.compare(a, b) : 0);
}

/** The configured NAT64 prefix, or the one discovered through the resolver (RFC 7050). */
function nat64PrefixOf(
  options: RaceSettings & { readonly resolver?: Resolver },
  clock: Clock,
  signal: AbortSignal,
): Promise<Nat64Prefix | undefined> | undefined {
  if (typeof options.nat64Prefix === "string") return Promise.resolve(parseNat64Prefix(options.nat64Prefix));
  return options.resolver && discoverNat64Prefix(options.resolver, clock, signal);
}

/** An observer that ignores every event. */
function ignore(): void {}

/** Why lookups still running are stopped once the connect is decided (made once: it is costly on Node). */
const CONNECT_OVER = new DOMException("the connect is over", "AbortError");
