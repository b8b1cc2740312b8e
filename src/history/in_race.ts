/**
 * What history changes in a race: policy only (the store is `history.ts`,
 * the mechanics `race.ts`).
 *
 * - Order: addresses that connected go first (fastest smoothed RTT first),
 *   then addresses history knows nothing of, then those that lost, then
 *   those that failed. Nothing is dropped: a known-dead address is still
 *   tried when everything else fails.
 * - Leading family: when the best address is of the other family, it leads,
 *   decided before resolution so the Resolution Delay waits for the right one.
 * - Delay: after starting an address with a measured RTT, the next attempt
 *   waits {@linkcode rttAttemptDelay} instead of the schedule's delay.
 * - A host never met on a known network: until the first timer expires, the
 *   delay is {@linkcode networkAttemptDelay}, from the network's RTTs.
 *
 * @module
 */

import type { HostHistory, KnownAddress, NetworkRtt } from "./history.ts";
import { MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY, type Schedule } from "../race/schedule.ts";
import type { Family } from "../base/types.ts";

/**
 * The smallest margin over the smoothed RTT, in ms: RFC 6298's clock
 * granularity G, here the jitter of a busy event loop (timers and I/O
 * callbacks run a few to a few tens of ms late under load).
 *
 * @example
 * ```ts
 * import { RTT_DELAY_MARGIN } from "@eyeballs/connect/history";
 * RTT_DELAY_MARGIN; // 25
 * ```
 */
export const RTT_DELAY_MARGIN = 25;

/**
 * How long a connect waits for an async store's `lookup`, in ms: the first attempt delay. A store slower than that
 * costs more than what it could save, so the connect goes on without history (a `timeout` or `signal` still ends it
 * sooner).
 */
export const HISTORY_WAIT = 250;

/**
 * The Connection Attempt Delay for an address with a measured RTT, computed
 * as TCP computes its retransmission timeout (RFC 6298 §2.3):
 * `SRTT + max(G, 4 · RTTVAR)` with G = {@linkcode RTT_DELAY_MARGIN}, clamped
 * to RFC 8305 §5's bounds of 10 ms to 2 s. Undefined when the address has no
 * RTT (it never connected).
 *
 * Why: the delay is how long the race waits for one address before it
 * starts the next. TCP's RTO answers the same question for a segment, "by
 * when has the answer surely come?", and its 4 · RTTVAR term waits longer
 * on a jittery path. After one sample it is 3 × the RTT.
 *
 * @example
 * ```ts
 * import { rttAttemptDelay } from "@eyeballs/connect/history";
 * rttAttemptDelay({ address: "192.0.2.1", state: "connected", srttMs: 20, rttvarMs: 10, ageMs: 0 }); // 60
 * rttAttemptDelay({ address: "192.0.2.1", state: "connected", srttMs: 1, rttvarMs: 0, ageMs: 0 }); // 26
 * rttAttemptDelay({ address: "192.0.2.1", state: "connected", srttMs: 3000, rttvarMs: 0, ageMs: 0 }); // 2000
 * ```
 */
export function rttAttemptDelay(known: KnownAddress): number | undefined {
  const { srttMs, rttvarMs } = known;
  if (!isMs(srttMs) || !isMs(rttvarMs)) return undefined;
  const rto = srttMs + Math.max(RTT_DELAY_MARGIN, 4 * rttvarMs);
  return Math.min(MAX_ATTEMPT_DELAY, Math.max(MIN_ATTEMPT_DELAY, rto));
}

/**
 * The lowest delay {@linkcode networkAttemptDelay} gives, in ms: RFC 8305 §5's
 * (and the HEv3 draft's) recommended minimum of 100 ms. A delay borrowed from
 * other hosts is a guess about this one; the floor keeps a healthy host up
 * to about 100 ms away at one SYN.
 *
 * @example
 * ```ts
 * import { NETWORK_DELAY_FLOOR } from "@eyeballs/connect/history";
 * NETWORK_DELAY_FLOOR; // 100
 * ```
 */
export const NETWORK_DELAY_FLOOR = 100;

/**
 * The first Connection Attempt Delay for a host history has never measured,
 * on a network whose RTTs it knows: {@linkcode rttAttemptDelay}'s formula on
 * the network's median SRTT and RTTVAR, at most 3 × SRTT + G (the value after
 * one sample) so a jittery network cannot stretch it, clamped to
 * {@linkcode NETWORK_DELAY_FLOOR} (100 ms) and 2 s:
 * `clamp(min(SRTT + max(G, 4 · RTTVAR), 3 · SRTT + G), 100, 2000)`, G = 25 ms.
 * Undefined when `rtt` holds no usable numbers.
 *
 * @example
 * ```ts
 * import { networkAttemptDelay } from "@eyeballs/connect/history";
 * networkAttemptDelay({ srttMs: 20, rttvarMs: 10, hosts: 3 }); // 100 (60, raised to the floor)
 * networkAttemptDelay({ srttMs: 60, rttvarMs: 30, hosts: 5 }); // 180
 * networkAttemptDelay({ srttMs: 60, rttvarMs: 90, hosts: 5 }); // 205 (3 × 60 + 25)
 * ```
 */
export function networkAttemptDelay(rtt: NetworkRtt): number | undefined {
  const { srttMs, rttvarMs } = (rtt ?? {}) as Partial<NetworkRtt>;
  if (!isMs(srttMs) || !isMs(rttvarMs)) return undefined;
  const rto = Math.min(srttMs + Math.max(RTT_DELAY_MARGIN, 4 * rttvarMs), 3 * srttMs + RTT_DELAY_MARGIN);
  return Math.min(MAX_ATTEMPT_DELAY, Math.max(NETWORK_DELAY_FLOOR, rto));
}

/** True when history holds an RTT for some address of the host: then its own RTTs, not the network's, count. */
export function knowsRtt(history: HostHistory | undefined): boolean {
  return history !== undefined && history.addresses.some((k) => isMs(k.srttMs) && isMs(k.rttvarMs));
}

/** Why the network's RTTs changed a delay, for the `network-delay` event. */
export interface NetworkDelay {
  /** The delay used. */
  readonly delayMs: number;
  /** What the schedule alone would have waited. */
  readonly scheduleMs: number;
  /** The network's median smoothed RTT. */
  readonly srttMs: number;
  /** Its median RTT variation. */
  readonly rttvarMs: number;
  /** How many hosts it summarises. */
  readonly hosts: number;
}

/**
 * `base`, except that until the first timer expires the delay is
 * {@linkcode networkAttemptDelay} of `rtt` (after an expiry `base` goes on as
 * it would: the default's halving continues at 125 ms). `base` unchanged when
 * `rtt` gives no delay. `onChange` hears of each delay it changed.
 */
export function networkSchedule(
  base: Schedule,
  rtt: NetworkRtt,
  onChange: (change: NetworkDelay) => void = () => {},
): Schedule {
  const delayMs = networkAttemptDelay(rtt);
  if (delayMs === undefined) return base;
  return (state) => {
    const scheduleMs = base(state);
    if (state.expiries !== 0 || delayMs === scheduleMs) return scheduleMs;
    onChange({ delayMs, scheduleMs, srttMs: rtt.srttMs, rttvarMs: rtt.rttvarMs, hosts: rtt.hosts });
    return delayMs;
  };
}

const isMs = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;

/** Lower goes first; addresses history does not know sit between connected and lost. */
const CLASS: Record<string, number> = { connected: 0, unknown: 1, lost: 2, failed: 3 };

/**
 * The ranking history gives the address queue: connected addresses first,
 * fastest first; unknown ones next; then lost, then failed. Ties (and
 * unknown pairs) return 0, so the resolver's order is kept.
 */
export function historyRank(history: HostHistory): (a: string, b: string) => number {
  const known = new Map(history.addresses.map((k) => [k.address, k]));
  const classOf = (address: string) => CLASS[known.get(address)?.state ?? "unknown"] ?? CLASS.unknown;
  return (a, b) => {
    const byClass = classOf(a) - classOf(b);
    if (byClass !== 0 || classOf(a) !== CLASS.connected) return byClass;
    return (known.get(a)?.srttMs ?? Infinity) - (known.get(b)?.srttMs ?? Infinity) || 0;
  };
}

/**
 * The best address history knows that connected, if any: the one the race
 * will try first. `rank` is {@linkcode historyRank}'s, when the caller has it already.
 */
export function bestKnownAddress(
  history: HostHistory,
  rank: (a: string, b: string) => number = historyRank(history),
): KnownAddress | undefined {
  let best: KnownAddress | undefined; // the first of the best, as a stable sort would put it
  for (const known of history.addresses) {
    if (known.state !== "connected") continue;
    if (best === undefined || rank(known.address, best.address) < 0) best = known;
  }
  return best;
}

/**
 * The family of the best connected address, which should lead the race
 * (and be the one the Resolution Delay waits for); undefined when history
 * knows of no address that connected. `rank` as in {@linkcode bestKnownAddress}.
 */
export function historyFamily(
  history: HostHistory,
  rank: (a: string, b: string) => number = historyRank(history),
): Family | undefined {
  const best = bestKnownAddress(history, rank);
  return best === undefined ? undefined : best.address.includes(":") ? 6 : 4; // canonical addresses
}

/** Why history changed one delay, for the `history-delay` event. */
export interface HistoryDelay {
  /** The address just started, whose RTT set the delay. */
  readonly address: string;
  /** The delay used. */
  readonly delayMs: number;
  /** What the schedule alone would have waited. */
  readonly scheduleMs: number;
  /** The address's smoothed RTT. */
  readonly srttMs: number;
  /** Its RTT variation. */
  readonly rttvarMs: number;
}

/**
 * `base`, except after starting an address with a measured RTT: then the
 * delay is {@linkcode rttAttemptDelay}. `lastStarted` names the address the
 * race has just started; `onChange` hears of each delay history changed.
 */
export function historySchedule(
  base: Schedule,
  history: HostHistory,
  lastStarted: () => string | undefined,
  onChange: (change: HistoryDelay) => void = () => {},
): Schedule {
  const known = new Map(history.addresses.map((k) => [k.address, k]));
  return (state) => {
    const scheduleMs = base(state);
    const address = lastStarted();
    const entry = address === undefined ? undefined : known.get(address);
    const delayMs = entry === undefined || entry.state === "failed" ? undefined : rttAttemptDelay(entry);
    if (delayMs === undefined || entry === undefined || delayMs === scheduleMs) return scheduleMs;
    onChange({ address: entry.address, delayMs, scheduleMs, srttMs: entry.srttMs!, rttvarMs: entry.rttvarMs! });
    return delayMs;
  };
}
