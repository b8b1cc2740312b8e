/**
 * Turns the CLI's options into the library's race settings.
 *
 * @module
 */

import type { RaceSettings } from "../connect/connect.ts";
import { defaultSchedule, fixedDelay, halving, RFC8305_ATTEMPT_DELAY, type Schedule } from "../race/schedule.ts";
import { type History, MemoryHistory } from "../history/history.ts";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { FileHistory } from "../adapters/shared/file_history.ts";
import { type CliOptions, UsageError } from "./args.ts";
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

/** One PEM certificate block. */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

/**
 * The certificates of `--ca FILE`: every PEM `CERTIFICATE` block in it. A
 * missing or unreadable file, or one with no certificate, is a
 * {@linkcode UsageError} naming `--ca` and the file.
 */
export async function readCaFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : (error as Error).message;
    throw new UsageError(`--ca ${path}: ${why}`);
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new UsageError(`--ca ${path}: not a PEM file of certificates (no -----BEGIN CERTIFICATE----- block)`);
  }
  const { X509Certificate } = await import("node:crypto"); // only for --ca: most runs never need it
  certificates.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new UsageError(
        `--ca ${path}: certificate ${i + 1} of ${certificates.length} is not a valid X.509 certificate`,
      );
    }
  });
  return certificates.map((pem) => pem + "\n");
}
