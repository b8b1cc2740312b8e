/**
 * Time: the real clock.
 *
 * @module
 */

import type { Clock } from "../base/types.ts";

/** The longest delay a runtime's timer takes (a signed 32-bit count of ms): a longer one fires at once there. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A clock's `setTimer` for any finite delay, over a runtime timer `set` that
 * takes at most {@linkcode MAX_TIMER_MS}: a longer delay is waited out in
 * steps, so that a `timeout` of weeks does not fire at once.
 *
 * @example
 * ```ts
 * import { inSteps } from "./clock.ts";
 * const setTimer = inSteps((callback, ms) => {
 *   const id = setTimeout(callback, ms);
 *   return () => clearTimeout(id);
 * });
 * const cancel = setTimer(() => console.log("due"), 30 * 86_400_000); // 30 days: two steps
 * cancel();
 * ```
 */
export function inSteps(set: Clock["setTimer"]): Clock["setTimer"] {
  const setTimer = (callback: () => void, ms: number): () => void => {
    if (!(ms > MAX_TIMER_MS)) return set(callback, ms);
    let cancel = set(() => {
      cancel = setTimer(callback, ms - MAX_TIMER_MS);
    }, MAX_TIMER_MS);
    return () => cancel();
  };
  return setTimer;
}

/**
 * The real clock: `performance.now()` and `setTimeout`. A `setTimeout` call
 * that itself took a millisecond or more (Deno's first one in a process loads
 * a module) is set again for what is left of `ms`, so that the timer is due
 * when it was asked for, not that much later.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: inSteps((callback, ms) => {
    const start = performance.now();
    let id = setTimeout(callback, ms);
    const spent = performance.now() - start;
    if (spent >= 1) {
      clearTimeout(id);
      id = setTimeout(callback, Math.max(0, ms - spent));
    }
    return () => clearTimeout(id);
  }),
};

/**
 * The real clock on the timers of `AbortSignal.timeout`, for Deno, whose
 * `setTimeout` loads its Node-compatible timers module at its first call
 * (docs/performance.md). Deno keeps the process alive for such a timer only
 * while its signal has an abort listener: cancelling removes the listener,
 * and the timer then runs out unheard and holds nothing. Delays are rounded
 * up to whole milliseconds, so a timer never fires before it is due. Not for
 * Node or Bun: there these timers cost several times more than `setTimeout`,
 * and Node's do not keep the process alive.
 *
 * @example
 * ```ts
 * import { abortSignalClock } from "./clock.ts";
 * const cancel = abortSignalClock.setTimer(() => console.log("due"), 250);
 * cancel(); // never fires, and the process may exit
 * ```
 */
export const abortSignalClock: Clock = {
  now: () => performance.now(),
  setTimer: inSteps((callback, ms) => {
    const signal = AbortSignal.timeout(Math.ceil(Math.max(0, ms)));
    const listener = () => callback();
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  }),
};
