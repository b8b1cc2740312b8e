/**
 * Deno's clock for the race: `performance.now()`, and timers from
 * `AbortSignal.timeout` rather than `setTimeout`, whose first call in a
 * process loads Deno's Node-compatible timers module (docs/performance.md).
 *
 * @module
 */

import type { Clock } from "../../base/types.ts";
import { inSteps } from "../../race/clock.ts";

/**
 * The real clock on Deno's own web timers. Deno keeps the process alive for
 * an `AbortSignal.timeout` timer only while its signal has an abort
 * listener: cancelling removes the listener, and the timer then runs out
 * unheard and holds nothing. Delays are rounded up to whole milliseconds,
 * so a timer never fires before it is due, and a delay past the timer's
 * range is waited out in steps.
 *
 * @example
 * ```ts
 * import { denoClock } from "./clock.ts";
 * const cancel = denoClock.setTimer(() => console.log("due"), 250);
 * cancel(); // never fires, and the process may exit
 * ```
 */
export const denoClock: Clock = {
  now: () => performance.now(),
  setTimer: inSteps((callback, ms) => {
    const signal = AbortSignal.timeout(Math.ceil(Math.max(0, ms)));
    const listener = () => callback();
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  }),
};
