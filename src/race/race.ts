/**
 * The race: start attempts one after another, a scheduled delay apart and at
 * once when one fails, but never two within RFC 8305's 10 ms floor; never
 * kill an attempt because its timer fired; hand the first connection to the
 * caller and close every other.
 *
 * When an attempt is due and `maxAttemptsInFlight` attempts are already
 * connecting, the oldest makes room: it is aborted as soon as it has been
 * pending for 2 s (RFC 8305's longest attempt delay). It has had the longest
 * chance; waiting for the kernel to give up on it (minutes) would stall the
 * race while a live address waits, and aborting it any sooner would kill
 * attempts on a link whose RTT exceeds the shrinking delays.
 *
 * Policy lives elsewhere: the delays in `schedule.ts`, the order in
 * `queue.ts`, where addresses come from in `resolve.ts`.
 *
 * @module
 */

import { MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY, type Schedule } from "./schedule.ts";
import type { AddressQueue } from "./queue.ts";
import type { Attempt, AttemptOutcome, Clock, ConnectEvent, Dialer, Target } from "../base/types.ts";

/** What the race needs. */
export interface RaceOptions<Conn> {
  /** Opens and closes connections. */
  readonly dialer: Dialer<Conn>;
  /** The addresses, taken one at a time; more may arrive during the race. */
  readonly queue: AddressQueue;
  /** The delay between starts. */
  readonly schedule: Schedule;
  /** At most this many attempts connect at once; a due attempt takes the slot of the oldest once it is 2 s old. */
  readonly maxAttemptsInFlight: number;
  /** Ends the race early: every pending attempt is aborted. Omitted when nothing can end it early. */
  readonly signal?: AbortSignal;
  /** Time and timers. */
  readonly clock: Clock;
  /** The clock time that `atMs`, `startMs` and `endMs` count from. */
  readonly startedAt: number;
  /**
   * Told of every start, failure, win, loss, abort and timer expiry until the race returns; its throws are ignored.
   * Omitted when nobody listens: then no event is built.
   */
  readonly emit?: (event: ConnectEvent) => void;
}

/** How the race ended. `winner` is unset when every attempt failed or the signal fired. */
export interface RaceResult<Conn> {
  /** The connection handed to the caller, and its attempt. */
  readonly winner?: { readonly conn: Conn; readonly attempt: Attempt };
  /** Every attempt, in start order. */
  readonly attempts: readonly Attempt[];
  /** Set when the schedule returned a bad delay or threw (what it threw). */
  readonly error?: unknown;
}

/**
 * Runs one race over the addresses of `options.queue`. It never throws; it
 * resolves once there is a winner, every address has failed, or the signal
 * fired. Either way no connection but the winner stays open: losers are
 * aborted, and any that connects later is closed.
 */
export async function race<Conn>(options: RaceOptions<Conn>): Promise<RaceResult<Conn>> {
  const { dialer, queue, schedule, clock, signal } = options;
  const attempts: Attempt[] = [];
  // In start order: the first is the oldest. A sole attempt has no controller: the race's signal is its own.
  const running = new Map<Attempt, AbortController | undefined>();
  let winner: { conn: Conn; attempt: Attempt } | undefined;
  let error: unknown;
  let over = false; // once the race has returned, nothing it started may speak
  let mayStart = true; // the delay has passed, or the last attempt failed
  let expiries = 0;
  let expiredDue: number | undefined; // when the expired timer was due: lateness must not add up
  let lastStartAt = -Infinity;
  let cancelTimer = () => {};
  let wake = () => {};
  const since = () => clock.now() - options.startedAt;
  const observer = options.emit;
  // Called as `emit?.(…)`: with no observer the event object is never built.
  const emit = observer && ((event: ConnectEvent) => {
    if (over) return;
    try {
      observer(event);
    } catch {
      // A broken observer must not break the race.
    }
  });

  const end = (attempt: Attempt, outcome: AttemptOutcome, cause?: unknown) => {
    running.delete(attempt);
    attempt.outcome = outcome;
    attempt.endMs = since();
    if (cause !== undefined) attempt.error = cause;
    if (outcome === "failed") {
      emit?.({ type: "attempt-failed", atMs: attempt.endMs, attempt, error: cause });
    } else {
      emit?.({ type: `attempt-${outcome}` as "attempt-won", atMs: attempt.endMs, attempt });
    }
  };

  const abort = (attempt: Attempt, reason: unknown, recorded?: unknown) => {
    const controller = running.get(attempt);
    end(attempt, "aborted", recorded);
    controller?.abort(reason); // none: a sole attempt, aborted through the race's signal
  };

  const start = (target: Target) => {
    lastStartAt = clock.now();
    const attempt: Attempt = { ...target, index: attempts.length, startMs: since(), outcome: "pending" };
    // The only attempt there will ever be (none running, no address to come) is never aborted alone: only a
    // winner or room-making aborts one attempt, and the race's signal reaches it directly. Controllers are
    // costly on Node and Bun (docs/performance.md), and most connects have one address or win with the first.
    const sole = running.size === 0 && queue.ended && queue.size === 0;
    const controller = sole ? undefined : new AbortController();
    attempts.push(attempt);
    running.set(attempt, controller);
    emit?.({ type: "attempt-start", atMs: attempt.startMs, attempt });
    const failed = (cause: unknown) => {
      if (attempt.outcome !== "pending") return; // aborted: its error is ours
      end(attempt, "failed", cause);
      if (!winner) {
        cancelTimer(); // a failure starts the next attempt now, and is no expiry
        expiredDue = undefined;
        mayStart = true;
      }
      wake();
    };
    dialSafely(dialer, target, controller?.signal ?? signal ?? NEVER_ABORTED).then((conn) => {
      const empty = emptyDialError(conn);
      if (empty) return failed(empty);
      if (attempt.outcome !== "pending") { // aborted (race over, or made room): too late
        closeSafely(dialer, conn);
        emit?.({ type: "late-connection-closed", atMs: since(), attempt });
      } else if (winner || signal?.aborted) { // connected in the same turn as the winner
        closeSafely(dialer, conn);
        end(attempt, "lost");
      } else {
        winner = { conn, attempt };
        end(attempt, "won");
      }
      wake();
    }, failed);
  };

  const armTimer = () => {
    cancelTimer();
    if (queue.ended && queue.size === 0) return; // the last attempt has no timer
    let ms: unknown;
    try {
      ms = schedule({ started: attempts.length, expiries });
    } catch (cause) {
      error = cause;
      return;
    }
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
      error = new RangeError(`schedule must return a finite number ≥ 0, got ${String(ms)}`);
      return;
    }
    const due = (expiredDue ?? clock.now()) + ms; // counted from the schedule, not from a late timer
    expiredDue = undefined;
    cancelTimer = clock.setTimer(() => {
      cancelTimer = () => {};
      expiredDue = due;
      expiries++;
      mayStart = true;
      emit?.({ type: "timer-expired", atMs: since(), expiries });
      wake();
    }, Math.max(0, due - clock.now()));
  };

  /**
   * True, with a timer armed, while the next start must wait: for the floor since the last start (a late
   * timer must not bring a burst), and with every slot taken, for the oldest attempt to have had its chance.
   */
  const tooSoon = (oldest: Attempt | undefined) => {
    const full = running.size >= options.maxAttemptsInFlight;
    const roomAt = full && oldest ? options.startedAt + oldest.startMs + MAKE_ROOM_AFTER : -Infinity;
    const ms = Math.max(lastStartAt + MIN_ATTEMPT_DELAY, roomAt) - clock.now();
    if (ms <= 0) return false;
    cancelTimer();
    cancelTimer = clock.setTimer(() => wake(), ms);
    return true;
  };

  const onAbort = () => wake();
  signal?.addEventListener("abort", onAbort);
  const unsubscribe = queue.onChange(() => wake());
  try {
    while (!winner && !signal?.aborted && error === undefined) {
      // Checked after the winner, so a timer and a success in the same turn start nothing.
      const [oldest] = running.keys();
      if (mayStart && queue.size > 0 && !tooSoon(oldest)) {
        if (running.size >= options.maxAttemptsInFlight) abort(oldest, MADE_ROOM, MADE_ROOM);
        mayStart = false;
        start(queue.take()!);
        armTimer();
        continue;
      }
      if (queue.size === 0) expiredDue = undefined; // waiting for an address: count from the real start
      if (running.size === 0 && queue.ended && queue.size === 0) break; // every address failed
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    cancelTimer();
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
    const cutShort = signal?.aborted ? signal.reason : undefined; // a cut-short race says why
    for (const attempt of [...running.keys()]) abort(attempt, cutShort ?? LOST_THE_RACE, cutShort);
    over = true;
  }
  return { winner, attempts, error };
}

/** Why an attempt still connecting is aborted once another has won (made once: it is costly on Node). */
const LOST_THE_RACE = new DOMException("lost the race", "AbortError");
/** How long the oldest attempt may keep its slot when a new one is due and every slot is taken. */
const MAKE_ROOM_AFTER = MAX_ATTEMPT_DELAY;
/** Why the oldest attempt is aborted when a new one is due and every slot is taken: it had no answer in 2 s. */
export const MADE_ROOM: Error = new Error("aborted to make room for the next attempt (maxAttemptsInFlight reached)");

/**
 * The signal of an attempt nothing can abort (a sole attempt in a race without a signal). Dialers may compare
 * against it to skip listening for an abort that cannot come.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * The error for a dial that resolved with no connection (`undefined` or
 * `null`): such an attempt failed. Undefined for a real connection.
 */
export function emptyDialError(conn: unknown): TypeError | undefined {
  return conn === undefined || conn === null
    ? new TypeError(`dialer.dial resolved with ${conn}, not a connection`)
    : undefined;
}

/**
 * `dialer.dial`, with a synchronous throw turned into a rejection (and no promise hop of its own).
 */
export function dialSafely<Conn>(dialer: Dialer<Conn>, target: Target, signal: AbortSignal): Promise<Conn> {
  try {
    return Promise.resolve(dialer.dial(target, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `dialer.close`, which must not break the race even if it throws. */
function closeSafely<Conn>(dialer: Dialer<Conn>, conn: Conn): void {
  try {
    dialer.close(conn);
  } catch {
    // The connection is lost to us either way; nothing more can be done.
  }
}
