/**
 * Time: the real clock.
 *
 * @module
 */

import type { Clock } from "../base/types.ts";

/**
 * The real clock: `performance.now()` and `setTimeout`. A `setTimeout` call
 * that itself took a millisecond or more (Deno's first one in a process loads
 * a module) is set again for what is left of `ms`, so that the timer is due
 * when it was asked for, not that much later.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const start = performance.now();
    let id = setTimeout(callback, ms);
    const spent = performance.now() - start;
    if (spent >= 1) {
      clearTimeout(id);
      id = setTimeout(callback, Math.max(0, ms - spent));
    }
    return () => clearTimeout(id);
  },
};
