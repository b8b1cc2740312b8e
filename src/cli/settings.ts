/**
 * Turns the CLI's options into the library's race settings.
 *
 * @module
 */

import type { RaceSettings } from "../connect/connect.ts";
import { defaultSchedule, fixedDelay, halving, RFC8305_ATTEMPT_DELAY, type Schedule } from "../race/schedule.ts";
import { type History, MemoryHistory } from "../history/history.ts";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { FileHistory } from "../adapters/shared/file_history.ts";
import type { CliOptions } from "./args.ts";
import { denyAddresses } from "../addresses/policy.ts";

/**
 * The schedule `--schedule` and `--attempt-delay` ask for: `rfc8305` is a
 * fixed delay (250 ms by default), `halving` is the ISC article's schedule
 * exactly (500 ms by default, no floor), `default` the library's default.
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

/**
 * The history `--history`, `--history-ttl` and `--no-history` ask for: a
 * file store, an in-memory store with that TTL, off, or undefined for the
 * library's default (in memory, shared by every `--repeat` connect). Make it
 * once per run, so that repeated connects share it.
 */
export function historyOf(
  options: Pick<CliOptions, "historyFile" | "historyTtl" | "noHistory">,
): History | false | undefined {
  if (options.noHistory) return false;
  const ttl = options.historyTtl === undefined ? {} : { ttl: options.historyTtl };
  if (options.historyFile !== undefined) {
    const history = new FileHistory(options.historyFile, ttl);
    const folder = dirname(options.historyFile);
    if (!existsSync(folder)) throw new RangeError(`FileHistory: path ${options.historyFile}: no folder ${folder}`);
    return history;
  }
  return options.historyTtl === undefined ? undefined : new MemoryHistory(ttl);
}
