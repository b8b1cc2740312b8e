/**
 * Time: the real clock, and a small abortable delay (in place of
 * `@std/async`, which cannot be installed here).
 *
 * @module
 */

import type { Clock } from "./types.ts";

/**
 * The real clock: `performance.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemClock } from "@eyeballs/connect";
 * const cancel = systemClock.setTimer(() => console.log("later"), 100);
 * cancel(); // never mind
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const id = setTimeout(callback, ms);
    return () => clearTimeout(id);
  },
};

/**
 * Resolves after `ms` milliseconds on `clock`, or rejects with the signal's
 * reason as soon as `signal` aborts (the timer is then cleared, so nothing
 * keeps the process alive).
 *
 * @example
 * ```ts
 * import { delay } from "@eyeballs/connect";
 * const controller = new AbortController();
 * const waiting = delay(1000, { signal: controller.signal });
 * controller.abort();
 * await waiting.catch((e) => console.log("stopped:", e.name)); // stopped: AbortError
 * ```
 */
export function delay(
  ms: number,
  options: { signal?: AbortSignal; clock?: Clock } = {},
): Promise<void> {
  const { signal, clock = systemClock } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
