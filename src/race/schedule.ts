/**
 * Schedules: how long the race waits after starting one attempt before it
 * starts the next. This is policy only; `race.ts` does the mechanics.
 *
 * A failed attempt always lets the next one start at once, whatever the
 * schedule says.
 *
 * @module
 */

import { requireDelay } from "../base/checks.ts";

/** What a schedule may look at when it picks the next delay. */
export interface ScheduleState {
  /** Attempts started so far (at least 1). */
  readonly started: number;
  /** How many times the delay timer has expired so far in this race. */
  readonly expiries: number;
}

/**
 * Returns the delay in milliseconds before the next attempt may start.
 * It must be a finite number ≥ 0.
 *
 * @example
 * ```ts
 * import type { Schedule } from "@eyeballs/connect";
 * // 100 ms, then 200 ms, then 300 ms...
 * const linear: Schedule = ({ started }) => 100 * started;
 * ```
 */
export type Schedule = (state: ScheduleState) => number;

/**
 * RFC 8305 §8: the recommended Connection Attempt Delay, 250 ms.
 *
 * @example
 * ```ts
 * import { fixedDelay } from "@eyeballs/connect";
 * import { RFC8305_ATTEMPT_DELAY } from "@eyeballs/connect/race";
 * const schedule = fixedDelay(RFC8305_ATTEMPT_DELAY);
 * ```
 */
export const RFC8305_ATTEMPT_DELAY = 250;
/**
 * RFC 8305 §5: the delay must never be below 10 ms.
 *
 * @example
 * ```ts
 * import { halving } from "@eyeballs/connect";
 * import { MIN_ATTEMPT_DELAY } from "@eyeballs/connect/race";
 * const schedule = halving(250, { min: MIN_ATTEMPT_DELAY });
 * ```
 */
export const MIN_ATTEMPT_DELAY = 10;
/**
 * RFC 8305 §5: the delay should not be above 2 seconds.
 *
 * @example
 * ```ts
 * import { fixedDelay } from "@eyeballs/connect";
 * import { MAX_ATTEMPT_DELAY } from "@eyeballs/connect/race";
 * fixedDelay(5000)({ started: 1, expiries: 0 }) === MAX_ATTEMPT_DELAY; // true: clamped
 * ```
 */
export const MAX_ATTEMPT_DELAY = 2000;

/**
 * A fixed Connection Attempt Delay, as in RFC 8305, clamped to the RFC's
 * bounds of 10 ms to 2 s.
 *
 * @example
 * ```ts
 * import { fixedDelay } from "@eyeballs/connect";
 * const schedule = fixedDelay(250);
 * schedule({ started: 3, expiries: 2 }); // 250
 * fixedDelay(1); // clamped: always 10
 * ```
 */
export function fixedDelay(ms: number = RFC8305_ATTEMPT_DELAY): Schedule {
  requireDelay(ms, "fixedDelay(ms)");
  const delay = Math.min(MAX_ATTEMPT_DELAY, Math.max(MIN_ATTEMPT_DELAY, ms));
  return () => delay;
}

/**
 * The halving schedule of ISC's 2011 article "How to Connect to a
 * Multi-Homed Server Over TCP": the first delay is `first` ms (500 in the
 * article) and it is halved, in whole milliseconds as the article's C code
 * does, each time the timer expires. While no attempt fails, every attempt
 * has therefore started within 2 × `first` ms, however many addresses there
 * are. A failed attempt starts the next at once and does not halve the
 * delay (only an expiry does), so the delay after it starts over from the
 * current, un-halved value, as in the article's code: the 2 × `first` bound
 * then no longer holds.
 *
 * `min` sets a floor (0 by default: exactly the article's delays). The race
 * itself never starts two attempts less than {@linkcode MIN_ATTEMPT_DELAY}
 * (10 ms) apart, whatever the schedule says.
 *
 * @example
 * ```ts
 * import { halving } from "@eyeballs/connect";
 * const article = halving(500);
 * [0, 1, 2, 3].map((expiries) => article({ started: expiries + 1, expiries }));
 * // [500, 250, 125, 62]
 * ```
 */
export function halving(first = 500, options: { min?: number } = {}): Schedule {
  requireDelay(first, "halving(first)");
  const min = options.min ?? 0;
  requireDelay(min, "halving(options.min)");
  return ({ expiries }) => Math.max(min, Math.floor(first / 2 ** expiries));
}

/**
 * The default schedule: the article's halving shape started at RFC 8305's
 * 250 ms, with the RFC's 10 ms floor: 250, 125, 62, 31, 15, 10, 10...
 *
 * Why (measured in the lab, docs/schedule.md): a healthy two-address name
 * whose RTT is under 250 ms sends one SYN; with IPv6 blackholed, IPv4
 * starts after 250 ms, as Deno's and Node's own connects do; and with
 * 7 of 8 addresses silent, the 8th starts at 250 + 125 + 62 + 31 + 15 + 10
 * + 10 = 503 ms, where a fixed 250 ms needs 1750 ms.
 *
 * @example
 * ```ts
 * import { defaultSchedule } from "@eyeballs/connect";
 * defaultSchedule({ started: 1, expiries: 0 }); // 250
 * defaultSchedule({ started: 8, expiries: 7 }); // 10
 * ```
 */
export const defaultSchedule: Schedule = halving(RFC8305_ATTEMPT_DELAY, { min: MIN_ATTEMPT_DELAY });

/**
 * RFC 8305 §3: the recommended Resolution Delay, 50 ms: how long an IPv4
 * answer waits for the IPv6 one.
 *
 * @example
 * ```ts
 * import { RESOLUTION_DELAY } from "@eyeballs/connect/race";
 * const settings = { resolutionDelay: RESOLUTION_DELAY / 2 };
 * ```
 */
export const RESOLUTION_DELAY = 50;

/**
 * The default for `maxAttemptsInFlight`: at most this many attempts connect
 * at the same time. High enough that a dead address costs one schedule step,
 * never a wait for a slot: it covers both families of any answer that fits
 * a 512-byte DNS message (at most 29 A or 16 AAAA records), while still
 * bounding the sockets one connect holds (docs/schedule.md).
 *
 * @example
 * ```ts
 * import { MAX_ATTEMPTS_IN_FLIGHT } from "@eyeballs/connect/race";
 * import type { RaceSettings } from "@eyeballs/connect";
 * const settings: RaceSettings = { maxAttemptsInFlight: MAX_ATTEMPTS_IN_FLIGHT * 2 };
 * ```
 */
export const MAX_ATTEMPTS_IN_FLIGHT = 48;
