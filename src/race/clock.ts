/**
 * Time: the real clock.
 *
 * @module
 */

import type { Clock } from "../base/types.ts";

/**
 * The real clock: `performance.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
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
