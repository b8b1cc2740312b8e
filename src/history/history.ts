/**
 * History: what earlier connects to a host and port learned. Per address it
 * keeps the last outcome (connected, lost, failed) and a smoothed RTT (the
 * time from an attempt's start to connected), so that later races try the
 * address that worked first and wait for it about as long as it takes.
 *
 * This file holds the store side: the {@linkcode History} interface a user's
 * own store implements, the pure update rules (RTT smoothing, bounds, TTL)
 * every store shares, and the in-memory default. What history changes in a
 * race (order, delay) lives in `in_race.ts`.
 *
 * @module
 */

import { systemClock } from "../race/clock.ts";
import { MADE_ROOM } from "../race/race.ts";
import type { AddressState, Attempt, Clock, KnownAddress } from "../base/types.ts";
export type { AddressState, KnownAddress };
import { describe, requireInteger, requireObject } from "../base/checks.ts";

/**
 * One attempt's result, as a race reports it to {@linkcode History.record}.
 *
 * @example
 * ```ts
 * import type { AddressOutcome } from "@eyeballs/connect/history";
 * const outcome: AddressOutcome = { address: "192.0.2.1", state: "connected", rttMs: 21.5 };
 * ```
 */
export interface AddressOutcome {
  /** The address, canonical. */
  readonly address: string;
  /** How its attempt ended. */
  readonly state: AddressState;
  /** From the attempt's start to connected, for an attempt that connected (won or lost). */
  readonly rttMs?: number;
}

/**
 * What history knows of one host and port: its addresses, in the order
 * they were first recorded.
 *
 * @example
 * ```ts
 * import type { HostHistory } from "@eyeballs/connect/history";
 * const connected = (h: HostHistory) => h.addresses.filter((a) => a.state === "connected");
 * ```
 */
export interface HostHistory {
  /** Every address recorded, with what it did last. */
  readonly addresses: readonly KnownAddress[];
}

/**
 * A history store. `connect` calls `lookup` before resolving a name (not on
 * an empty {@linkcode MemoryHistory}, which knows nothing) and `record` once
 * its race is over. Either may return a promise, for a store
 * that does I/O (a file, a shared cache); a plain value keeps the in-memory
 * path free of extra awaits. A store that throws or rejects is ignored: the
 * connect goes on as if it knew nothing. `record`'s promise is not awaited.
 *
 * Stores decide how long an entry lives (TTL) and how many they keep; the
 * update rules they share are {@linkcode updateStoredHost} and
 * {@linkcode viewOfStoredHost}.
 *
 * @example
 * ```ts
 * import { type History, MemoryHistory } from "@eyeballs/connect";
 * // A store that logs what it learns, backed by the in-memory one.
 * const memory = new MemoryHistory();
 * const logged: History = {
 *   lookup: (host, port, network) => memory.lookup(host, port, network),
 *   record: (host, port, outcomes, network) => {
 *     console.log(host, port, network, outcomes);
 *     memory.record(host, port, outcomes, network);
 *   },
 * };
 * ```
 */
export interface History {
  /**
   * What is known of `host` (lower case, no trailing dot) on `port`; undefined when nothing (or expired).
   * `network` names the network this host is on (the adapters' `networkId`; undefined when unknown): a
   * store keeps what it learned on one network apart from the others.
   */
  lookup(host: string, port: number, network?: string): HostHistory | undefined | Promise<HostHistory | undefined>;
  /** Learns from one race's attempts to `host` on `port`, on `network` (as in `lookup`). */
  record(host: string, port: number, outcomes: readonly AddressOutcome[], network?: string): void | Promise<void>;
  /**
   * Optional: what this store knows of `network`'s RTTs as a whole ({@linkcode networkRttOf} over its live hosts),
   * or undefined when it knows too little. `connect` asks only for a host `lookup` knows no RTT of, and then starts
   * that race from the network's RTTs (docs/history.md). A store without it gives new hosts the schedule.
   */
  networkRtt?(network?: string): NetworkRtt | undefined | Promise<NetworkRtt | undefined>;
}

/**
 * What a store knows of one network's RTTs: the median over its live hosts
 * of each host's best smoothed RTT (the connected address with the smallest
 * SRTT, the one a race would try first) and of that address's RTTVAR.
 *
 * @example
 * ```ts
 * import type { NetworkRtt } from "@eyeballs/connect/history";
 * const rtt: NetworkRtt = { srttMs: 20, rttvarMs: 6, hosts: 5 };
 * ```
 */
export interface NetworkRtt {
  /** The median of the hosts' smoothed RTTs, ms. */
  readonly srttMs: number;
  /** The median of their RTT variations, ms. */
  readonly rttvarMs: number;
  /** How many hosts it summarises (at least {@linkcode NETWORK_RTT_MIN_HOSTS}). */
  readonly hosts: number;
}

/**
 * How many hosts with a measured RTT a network needs before its RTTs set the
 * delay for a host never met: 3, so that the median is one no single outlier
 * (a CDN edge next door, a server on another continent) can set.
 *
 * @example
 * ```ts
 * import { NETWORK_RTT_MIN_HOSTS } from "@eyeballs/connect/history";
 * NETWORK_RTT_MIN_HOSTS; // 3
 * ```
 */
export const NETWORK_RTT_MIN_HOSTS = 3;

/**
 * The RTT summary of one network from its stored hosts at `now`: the median
 * of each live host's best smoothed RTT and of its RTTVAR. Hosts past their
 * TTL, and hosts with no connected address with an RTT, do not count.
 * Undefined when fewer than `minHosts` (default
 * {@linkcode NETWORK_RTT_MIN_HOSTS}) count. Pure; every store shares it.
 *
 * @example
 * ```ts
 * import { networkRttOf, updateStoredHost } from "@eyeballs/connect/history";
 * const hosts = [18, 20, 400].map((rttMs) =>
 *   updateStoredHost(undefined, [{ address: "192.0.2.1", state: "connected", rttMs }], 0, 60_000)
 * );
 * networkRttOf(hosts, 1000, 60_000); // { srttMs: 20, rttvarMs: 10, hosts: 3 }
 * ```
 */
export function networkRttOf(
  hosts: Iterable<StoredHost>,
  now: number,
  ttl: number,
  minHosts: number = NETWORK_RTT_MIN_HOSTS,
): NetworkRtt | undefined {
  const srtts: number[] = [];
  const rttvars: number[] = [];
  for (const stored of hosts) {
    if (isExpired(stored, now, ttl)) continue;
    let best: StoredAddress | undefined;
    for (const known of stored.addresses) {
      if (known.state !== "connected" || !isMs(known.srttMs) || !isMs(known.rttvarMs)) continue;
      if (best === undefined || known.srttMs < best.srttMs!) best = known;
    }
    if (best === undefined) continue;
    srtts.push(best.srttMs!);
    rttvars.push(best.rttvarMs!);
  }
  if (srtts.length === 0 || srtts.length < minHosts) return undefined;
  return { srttMs: median(srtts), rttvarMs: median(rttvars), hosts: srtts.length };
}

const isMs = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;

/** The median (the mean of the two middle values for an even count); `values` is sorted in place. */
function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

/**
 * How long history remembers a host by default: 10 minutes from the first
 * outcome recorded. Later outcomes do not extend it, so an address that
 * history keeps out of the race (an IPv6 path that was down) is tried again
 * at least this often.
 *
 * @example
 * ```ts
 * import { MemoryHistory } from "@eyeballs/connect";
 * import { HISTORY_TTL } from "@eyeballs/connect/history";
 * const history = new MemoryHistory({ ttl: HISTORY_TTL / 2 });
 * ```
 */
export const HISTORY_TTL = 10 * 60_000;

/**
 * How many hosts (host and port pairs) a store keeps by default; the least
 * recently used goes first.
 *
 * @example
 * ```ts
 * import { MemoryHistory } from "@eyeballs/connect";
 * import { HISTORY_MAX_HOSTS } from "@eyeballs/connect/history";
 * const history = new MemoryHistory({ maxHosts: HISTORY_MAX_HOSTS * 4 });
 * ```
 */
export const HISTORY_MAX_HOSTS = 1000;

/**
 * How many networks a store keeps history for by default (each with up to
 * `maxHosts` hosts); the least recently used network goes first. Going
 * back to a network seen recently (home, office) finds its history again.
 *
 * @example
 * ```ts
 * import { MemoryHistory } from "@eyeballs/connect";
 * import { HISTORY_MAX_NETWORKS } from "@eyeballs/connect/history";
 * const history = new MemoryHistory({ maxNetworks: HISTORY_MAX_NETWORKS * 2 });
 * ```
 */
export const HISTORY_MAX_NETWORKS = 4;

/** How long `MemoryHistory` reuses a network's RTT summary when nothing was recorded on it, in ms. */
const RTT_SUMMARY_MAX_AGE = 1000;

/** How many addresses one host keeps at most (the most recently recorded). */
const MAX_ADDRESSES_PER_HOST = 32;

/** RFC 6298 §2: the gains for SRTT (α = 1/8) and RTTVAR (β = 1/4). */
const ALPHA = 1 / 8;
const BETA = 1 / 4;

/** One address as a store keeps it (plain data: it goes into a file as JSON). */
export interface StoredAddress {
  /** The address, canonical. */
  readonly address: string;
  /** Its last outcome. */
  readonly state: AddressState;
  /** Smoothed RTT, ms. */
  readonly srttMs?: number;
  /** RTT variation, ms. */
  readonly rttvarMs?: number;
  /** The store's time of the last outcome. */
  readonly at: number;
}

/** One host and port as a store keeps it. */
export interface StoredHost {
  /** The store's time of the first outcome: the TTL counts from here. */
  readonly createdAt: number;
  /** The store's time it was last recorded: the LRU order. */
  readonly usedAt: number;
  /** Its addresses, at most 32. */
  readonly addresses: readonly StoredAddress[];
}

/**
 * The entry after one race: each outcome replaces its address's state, and
 * an RTT is smoothed as RFC 6298 smooths TCP's (the first sample sets SRTT =
 * R and RTTVAR = R/2; then RTTVAR ← ¾·RTTVAR + ¼·|SRTT − R| and SRTT ← ⅞·SRTT
 * + ⅛·R). An entry past its TTL is started afresh. Bad RTTs (not finite,
 * negative) are dropped. Pure: `now` is the store's time.
 *
 * @example
 * ```ts
 * import { updateStoredHost } from "@eyeballs/connect/history";
 * const first = updateStoredHost(undefined, [{ address: "192.0.2.1", state: "connected", rttMs: 20 }], 0, 60_000);
 * first.addresses[0].srttMs; // 20
 * ```
 */
export function updateStoredHost(
  stored: StoredHost | undefined,
  outcomes: readonly AddressOutcome[],
  now: number,
  ttl: number,
): StoredHost {
  const fresh = stored !== undefined && !isExpired(stored, now, ttl);
  const byAddress = new Map<string, StoredAddress>();
  for (const known of fresh ? stored.addresses : []) byAddress.set(known.address, known);
  for (const outcome of outcomes) {
    const before = byAddress.get(outcome.address);
    const rtt = outcome.rttMs;
    const sample = typeof rtt === "number" && Number.isFinite(rtt) && rtt >= 0 ? rtt : undefined;
    let { srttMs, rttvarMs } = before ?? {};
    if (sample !== undefined) {
      if (srttMs === undefined || rttvarMs === undefined) {
        [srttMs, rttvarMs] = [sample, sample / 2];
      } else {
        rttvarMs = (1 - BETA) * rttvarMs + BETA * Math.abs(srttMs - sample);
        srttMs = (1 - ALPHA) * srttMs + ALPHA * sample;
      }
    }
    byAddress.delete(outcome.address); // re-inserted last: the most recent are kept
    const { address, state } = outcome;
    byAddress.set(
      address,
      srttMs === undefined ? { address, state, at: now } : { address, state, srttMs, rttvarMs, at: now },
    );
  }
  const addresses = [...byAddress.values()].slice(-MAX_ADDRESSES_PER_HOST);
  return { createdAt: fresh ? stored.createdAt : now, usedAt: now, addresses };
}

/**
 * True when `stored` is past its TTL at `now`, or from the future (a clock
 * that jumped back): either way it says nothing about the network now.
 *
 * @example
 * ```ts
 * import { isExpired } from "@eyeballs/connect/history";
 * isExpired({ createdAt: 0, usedAt: 0, addresses: [] }, 60_000, 60_000); // true
 * ```
 */
export function isExpired(stored: StoredHost, now: number, ttl: number): boolean {
  const age = now - stored.createdAt;
  return !(age >= 0 && age < ttl);
}

/**
 * What a race sees of a stored entry at `now`: ages instead of times.
 *
 * @example
 * ```ts
 * import { viewOfStoredHost } from "@eyeballs/connect/history";
 * viewOfStoredHost({ createdAt: 0, usedAt: 5, addresses: [{ address: "::1", state: "failed", at: 5 }] }, 105)
 *   .addresses[0].ageMs; // 100
 * ```
 */
export function viewOfStoredHost(stored: StoredHost, now: number): HostHistory {
  // Built field by field: a rest/spread copy is measurably slower on the warm path (docs/performance.md).
  return {
    addresses: stored.addresses.map((k): KnownAddress => {
      const ageMs = Math.max(0, now - k.at);
      return !("srttMs" in k) && !("rttvarMs" in k)
        ? { address: k.address, state: k.state, ageMs }
        : { address: k.address, state: k.state, srttMs: k.srttMs, rttvarMs: k.rttvarMs, ageMs };
    }),
  };
}

/**
 * What one race teaches: the winner and any address that connected late
 * give an RTT; a failed attempt is `failed`, and so is one aborted to make
 * room under the cap (it had no answer in 2 s); an attempt aborted because
 * another won is `lost`. When the race was cut short (the caller's signal or
 * the timeout), attempts still connecting say nothing and are left out.
 *
 * @example
 * ```ts
 * import { outcomesOf } from "@eyeballs/connect/history";
 * outcomesOf([{ index: 0, address: "::1", family: 6, port: 80, startMs: 1, endMs: 3, outcome: "won" }], false);
 * // [{ address: "::1", state: "connected", rttMs: 2 }]
 * ```
 */
export function outcomesOf(attempts: readonly Attempt[], cutShort: boolean): AddressOutcome[] {
  const outcomes: AddressOutcome[] = [];
  for (const attempt of attempts) {
    const rttMs = attempt.endMs === undefined ? undefined : attempt.endMs - attempt.startMs;
    const { address } = attempt;
    if (attempt.outcome === "won") outcomes.push({ address, state: "connected", rttMs });
    else if (attempt.outcome === "lost") outcomes.push({ address, state: "lost", rttMs });
    else if (attempt.outcome === "failed") outcomes.push({ address, state: "failed" });
    else if (attempt.outcome === "aborted" && attempt.error === MADE_ROOM) outcomes.push({ address, state: "failed" });
    else if (attempt.outcome === "aborted" && !cutShort) outcomes.push({ address, state: "lost" });
  }
  return outcomes;
}

/** Options of {@linkcode MemoryHistory}. */
export interface MemoryHistoryOptions {
  /** How long an entry lives, in ms, from its first outcome. Default {@linkcode HISTORY_TTL} (10 minutes). */
  readonly ttl?: number;
  /** How many host and port pairs it keeps per network; the least recently used goes first. Default 1000. */
  readonly maxHosts?: number;
  /** How many networks it keeps history for; the least recently used goes first. Default {@linkcode HISTORY_MAX_NETWORKS}. */
  readonly maxNetworks?: number;
  /** The clock; tests inject a fake one. Default: the real monotonic clock. */
  readonly clock?: Clock;
}

/**
 * Checks a store's `ttl` and `maxHosts`, naming the field as `owner.field`.
 * For stores; returns the values with defaults filled in.
 */
export function checkHistoryOptions(
  options: { ttl?: unknown; maxHosts?: unknown; maxNetworks?: unknown },
  owner: string,
): { ttl: number; maxHosts: number; maxNetworks: number } {
  requireObject(options, `${owner} options`);
  const { ttl = HISTORY_TTL, maxHosts = HISTORY_MAX_HOSTS, maxNetworks = HISTORY_MAX_NETWORKS } = options;
  if (typeof ttl !== "number") {
    throw new TypeError(`${owner}: ttl must be a number of milliseconds, got ${describe(ttl)}`);
  }
  if (!Number.isFinite(ttl) || ttl <= 0) throw new RangeError(`${owner}: ttl must be a finite number > 0, got ${ttl}`);
  requireInteger(maxHosts, `${owner}: maxHosts`, 1, Infinity);
  requireInteger(maxNetworks, `${owner}: maxNetworks`, 1, Infinity);
  return { ttl, maxHosts, maxNetworks };
}

/**
 * The in-memory history: per network, a bounded LRU map from host and port
 * to what the last races learned, each entry forgotten `ttl` ms after its
 * first outcome. What one network taught is never used on another; the
 * least recently used networks beyond `maxNetworks` are forgotten.
 * Lookups and records are synchronous. `connect` uses one process-wide
 * instance, {@linkcode defaultHistory}, unless told otherwise.
 *
 * @example
 * ```ts
 * import { MemoryHistory } from "@eyeballs/connect";
 * const history = new MemoryHistory({ ttl: 60_000, maxHosts: 100 });
 * history.record("example.com", 443, [{ address: "192.0.2.1", state: "connected", rttMs: 30 }]);
 * history.lookup("example.com", 443)?.addresses[0].srttMs; // 30
 * ```
 */
export class MemoryHistory implements History {
  readonly #ttl: number;
  readonly #maxHosts: number;
  readonly #maxNetworks: number;
  readonly #clock: Clock;
  /** Per network (`""`: unknown), host and port to entry; insertion order is the LRU order of both maps. */
  readonly #networks = new Map<string, Map<string, StoredHost>>();
  /** Per network, its RTT summary and when it was computed; dropped when the network records. */
  readonly #rtts = new Map<string, { at: number; rtt: NetworkRtt | undefined }>();

  /** An empty history; throws a TypeError or RangeError naming a bad option. */
  constructor(options: MemoryHistoryOptions = {}) {
    ({ ttl: this.#ttl, maxHosts: this.#maxHosts, maxNetworks: this.#maxNetworks } = checkHistoryOptions(
      options,
      "MemoryHistory",
    ));
    if (options.clock !== undefined) {
      if (typeof options.clock?.now !== "function") {
        throw new TypeError(`MemoryHistory: clock.now must be a function, got ${describe(options.clock?.now)}`);
      }
    }
    this.#clock = options.clock ?? systemClock;
  }

  /** How many host and port pairs it holds, over all networks (expired ones included until looked up or pushed out). */
  get size(): number {
    let size = 0;
    for (const hosts of this.#networks.values()) size += hosts.size;
    return size;
  }

  /** How many networks it holds history for. */
  get networks(): number {
    return this.#networks.size;
  }

  /** What is known of `host` on `port` on `network`, or undefined. */
  lookup(host: string, port: number, network?: string): HostHistory | undefined {
    const hosts = this.#networks.get(network ?? "");
    if (hosts === undefined) return undefined;
    const key = historyKey(host, port);
    const stored = hosts.get(key);
    if (stored === undefined) return undefined;
    const now = this.#clock.now();
    if (isExpired(stored, now, this.#ttl)) {
      hosts.delete(key);
      return undefined;
    }
    return viewOfStoredHost(stored, now);
  }

  /**
   * What it knows of `network`'s RTTs ({@linkcode networkRttOf}), or undefined with fewer than
   * {@linkcode NETWORK_RTT_MIN_HOSTS} hosts measured. Computed again after a record on that network, and at most
   * once a second otherwise (so hosts past their TTL drop out).
   */
  networkRtt(network?: string): NetworkRtt | undefined {
    const id = network ?? "";
    const now = this.#clock.now();
    const cached = this.#rtts.get(id);
    if (cached !== undefined && now - cached.at >= 0 && now - cached.at < RTT_SUMMARY_MAX_AGE) return cached.rtt;
    const hosts = this.#networks.get(id);
    const rtt = hosts === undefined ? undefined : networkRttOf(hosts.values(), now, this.#ttl);
    this.#rtts.set(id, { at: now, rtt });
    return rtt;
  }

  /** Learns from one race on `network`. */
  record(host: string, port: number, outcomes: readonly AddressOutcome[], network?: string): void {
    if (outcomes.length === 0) return;
    const id = network ?? "";
    this.#rtts.delete(id);
    const hosts = this.#networks.get(id) ?? new Map<string, StoredHost>();
    this.#networks.delete(id); // re-inserted last: most recently used
    this.#networks.set(id, hosts);
    for (const oldest of this.#networks.keys()) {
      if (this.#networks.size <= this.#maxNetworks) break;
      this.#networks.delete(oldest);
      this.#rtts.delete(oldest);
    }
    const key = historyKey(host, port);
    const updated = updateStoredHost(hosts.get(key), outcomes, this.#clock.now(), this.#ttl);
    hosts.delete(key);
    hosts.set(key, updated);
    for (const oldest of hosts.keys()) {
      if (hosts.size <= this.#maxHosts) break;
      hosts.delete(oldest);
    }
  }

  /** Forgets everything, on every network. */
  clear(): void {
    this.#networks.clear();
    this.#rtts.clear();
  }
}

/**
 * The key of a host and port in a store: `host:port` (the host is a DNS
 * name, never an IP literal, so the colon is unambiguous).
 */
export function historyKey(host: string, port: number): string {
  return `${host}:${port}`;
}

/**
 * The process-wide history `connect` and every adapter use when no
 * `history` option is given: in memory, 10 minutes, 1000 hosts. Call
 * `defaultHistory.clear()` to forget (after a network change, say).
 *
 * @example
 * ```ts
 * import { defaultHistory } from "@eyeballs/connect";
 * defaultHistory.clear();
 * ```
 */
export const defaultHistory: MemoryHistory = new MemoryHistory();
