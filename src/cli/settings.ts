/**
 * Turns the CLI's options into the library's race settings.
 *
 * @module
 */

import type { RaceSettings } from "../core/connect.ts";
import { defaultSchedule, fixedDelay, halving, RFC8305_ATTEMPT_DELAY, type Schedule } from "../core/schedule.ts";
import type { CliOptions } from "./args.ts";
import { denyAddresses } from "../core/policy.ts";

/**
 * The schedule `--schedule` and `--attempt-delay` ask for: `rfc8305` is a
 * fixed delay (250 ms by default), `halving` is the ISC article's schedule
 * exactly (500 ms by default, no floor), `default` the library's default.
 *
 * @example
 * ```ts
 * import { scheduleOf } from "./settings.ts";
 * scheduleOf({ schedule: "halving" })({ started: 2, expiries: 1 }); // 250
 * ```
 */
export function scheduleOf(options: Pick<CliOptions, "schedule" | "attemptDelay">): Schedule {
  switch (options.schedule) {
    case "rfc8305":
      return fixedDelay(options.attemptDelay ?? RFC8305_ATTEMPT_DELAY);
    case "halving":
      return halving(options.attemptDelay ?? 500);
    default:
      return defaultSchedule;
  }
}

/**
 * The race settings for one connect; unset options are left out so the
 * library's defaults apply.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * import { raceSettings } from "./settings.ts";
 * const command = parseArgs(["--timeout", "5000", "localhost", "80"]);
 * if (command.kind === "connect") raceSettings(command.options).timeout; // 5000
 * ```
 */
export function raceSettings(options: CliOptions): RaceSettings {
  return {
    schedule: scheduleOf(options),
    ...(options.timeout !== undefined && { timeout: options.timeout }),
    ...(options.family !== undefined && { family: options.family }),
    ...(options.resolutionDelay !== undefined && { resolutionDelay: options.resolutionDelay }),
    ...(options.maxAttemptsInFlight !== undefined && { maxAttemptsInFlight: options.maxAttemptsInFlight }),
    ...(options.deny !== undefined && { addressPolicy: denyAddresses(options.deny) }),
  };
}
