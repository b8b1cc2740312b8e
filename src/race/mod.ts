/**
 * The race's tuning, for callers who write their own schedule or drive the
 * race with a fake clock: the schedules and their constants, the cap's
 * default, the Resolution Delay and the clock interface.
 *
 * @example
 * ```ts
 * import { MIN_ATTEMPT_DELAY, type Schedule } from "@eyeballs/connect/race";
 * const steady: Schedule = ({ started }) => Math.max(MIN_ATTEMPT_DELAY, 300 - 50 * started);
 * ```
 *
 * @module
 */

export {
  defaultSchedule,
  fixedDelay,
  halving,
  MAX_ATTEMPT_DELAY,
  MAX_ATTEMPTS_IN_FLIGHT,
  MIN_ATTEMPT_DELAY,
  RESOLUTION_DELAY,
  RFC8305_ATTEMPT_DELAY,
  type Schedule,
  type ScheduleState,
} from "./schedule.ts";
export type { AttemptOutcome, Clock } from "../base/types.ts";
