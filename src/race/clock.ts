/**
 * Time: the real clock.
 *
 * @module
 */

import type { Clock } from "../base/types.ts";

/**
 * The real clock: `performance.now()` and `setTimeout`.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const id = setTimeout(callback, ms);
    return () => clearTimeout(id);
  },
};
