/**
 * The race: start attempts one after another, a scheduled delay apart and at
 * once when one fails; never kill an attempt because its timer fired; hand
 * the first connection to the caller and close every other.
 *
 * Policy lives elsewhere: the delays in `schedule.ts`, the order in
 * `queue.ts`, where addresses come from in `resolve.ts`.
 *
 * @module
 */

import type { Schedule } from "./schedule.ts";
import type { AddressQueue } from "./queue.ts";
import type { Attempt, AttemptOutcome, Clock, ConnectEvent, Dialer, Target } from "./types.ts";

/** What the race needs. */
export interface RaceOptions<Conn> {
  /** Opens and closes connections. */
  readonly dialer: Dialer<Conn>;
  /** The addresses, taken one at a time; more may arrive during the race. */
  readonly queue: AddressQueue;
  /** The delay between starts. */
  readonly schedule: Schedule;
  /** At most this many attempts connect at the same time. */
  readonly maxAttemptsInFlight: number;
  /** Ends the race early: every pending attempt is aborted. Omitted when nothing can end it early. */
  readonly signal?: AbortSignal;
  /** Time and timers. */
  readonly clock: Clock;
  /** The clock time that `atMs`, `startMs` and `endMs` count from. */
  readonly startedAt: number;
  /** Told of every start, failure, win, loss, abort and timer expiry. */
  readonly emit: (event: ConnectEvent) => void;
}

/** How the race ended. `winner` is unset when every attempt failed or the signal fired. */
export interface RaceResult<Conn> {
  /** The connection handed to the caller, and its attempt. */
  readonly winner?: { readonly conn: Conn; readonly attempt: Attempt };
  /** Every attempt, in start order. */
  readonly attempts: readonly Attempt[];
  /** Set when a schedule returned a bad delay. */
  readonly error?: unknown;
}

/**
 * Runs one race over the addresses of `options.queue`. It never throws; it
 * resolves once there is a winner, every address has failed, or the signal
 * fired. Either way no connection but the winner stays open: losers are
 * aborted, and any that connects later is closed.
 *
 * @example
 * ```ts
 * import { AddressQueue } from "./queue.ts";
 * import { race } from "./race.ts";
 * import { defaultSchedule } from "./schedule.ts";
 * import { systemClock } from "./timer.ts";
 * const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1 });
 * queue.add(4, ["192.0.2.1"]);
 * queue.end();
 * const { winner } = await race({
 *   dialer: { dial: (t) => Promise.resolve(t.address), close: () => {} },
 *   queue, schedule: defaultSchedule, maxAttemptsInFlight: 8, signal: new AbortController().signal,
 *   clock: systemClock, startedAt: systemClock.now(), emit: () => {},
 * });
 * winner?.conn; // "192.0.2.1"
 * ```
 */
export async function race<Conn>(options: RaceOptions<Conn>): Promise<RaceResult<Conn>> {
  const { dialer, queue, schedule, clock, signal, emit } = options;
  const attempts: Attempt[] = [];
  const running = new Map<Attempt, AbortController>();
  let winner: { conn: Conn; attempt: Attempt } | undefined;
  let error: unknown;
  let mayStart = true; // the delay has passed, or the last attempt failed
  let expiries = 0;
  let expiredDue: number | undefined; // when the expired timer was due: lateness must not add up
  let cancelTimer = () => {};
  let wake = () => {};
  const since = () => clock.now() - options.startedAt;

  const end = (attempt: Attempt, outcome: AttemptOutcome, cause?: unknown) => {
    running.delete(attempt);
    attempt.outcome = outcome;
    attempt.endMs = since();
    if (cause !== undefined) attempt.error = cause;
    if (outcome === "failed") {
      emit({ type: "attempt-failed", atMs: attempt.endMs, attempt, error: cause });
    } else {
      emit({ type: `attempt-${outcome}` as "attempt-won", atMs: attempt.endMs, attempt });
    }
  };

  const start = (target: Target) => {
    const attempt: Attempt = { ...target, index: attempts.length, startMs: since(), outcome: "pending" };
    const controller = new AbortController();
    attempts.push(attempt);
    running.set(attempt, controller);
    emit({ type: "attempt-start", atMs: attempt.startMs, attempt });
    dialSafely(dialer, target, controller.signal).then(
      (conn) => {
        if (attempt.outcome !== "pending") { // aborted when the race ended: too late
          closeSafely(dialer, conn);
          emit({ type: "late-connection-closed", atMs: since(), attempt });
        } else if (winner || signal?.aborted) { // connected in the same turn as the winner
          closeSafely(dialer, conn);
          end(attempt, "lost");
        } else {
          winner = { conn, attempt };
          end(attempt, "won");
        }
        wake();
      },
      (cause) => {
        if (attempt.outcome !== "pending") return; // aborted: its error is ours
        end(attempt, "failed", cause);
        if (!winner) {
          cancelTimer(); // a failure starts the next attempt now, and is no expiry
          expiredDue = undefined;
          mayStart = true;
        }
        wake();
      },
    );
  };

  const armTimer = () => {
    cancelTimer();
    if (queue.ended && queue.size === 0) return; // the last attempt has no timer
    const ms = schedule({ started: attempts.length, expiries });
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
      emit({ type: "timer-expired", atMs: since(), expiries });
      wake();
    }, Math.max(0, due - clock.now()));
  };

  const onAbort = () => wake();
  signal?.addEventListener("abort", onAbort);
  const unsubscribe = queue.onChange(() => wake());
  try {
    while (!winner && !signal?.aborted && error === undefined) {
      // Checked after the winner, so a timer and a success in the same turn start nothing.
      const target = mayStart && running.size < options.maxAttemptsInFlight ? queue.take() : undefined;
      if (target) {
        mayStart = false;
        start(target);
        armTimer();
        continue;
      }
      expiredDue = undefined; // an attempt that waits for an address or a slot counts from its real start
      if (running.size === 0 && queue.ended && queue.size === 0) break; // every address failed
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    cancelTimer();
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
    const cutShort = signal?.aborted ? signal.reason : undefined; // a cut-short race says why
    for (const [attempt, controller] of running) {
      end(attempt, "aborted", cutShort);
      controller.abort(cutShort ?? LOST_THE_RACE);
    }
  }
  return { winner, attempts, error };
}

/** Why an attempt still connecting is aborted once another has won (made once: it is costly on Node). */
const LOST_THE_RACE = new DOMException("lost the race", "AbortError");

/** `dialer.dial`, with a synchronous throw or an empty result turned into a rejection. */
async function dialSafely<Conn>(dialer: Dialer<Conn>, target: Target, signal: AbortSignal): Promise<Conn> {
  const conn = await dialer.dial(target, signal);
  if (conn === undefined || conn === null) {
    throw new TypeError(`dialer.dial resolved with ${conn}, not a connection`);
  }
  return conn;
}

/** `dialer.close`, which must not break the race even if it throws. */
function closeSafely<Conn>(dialer: Dialer<Conn>, conn: Conn): void {
  try {
    dialer.close(conn);
  } catch {
    // The connection is lost to us either way; nothing more can be done.
  }
}
