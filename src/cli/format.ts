/**
 * Output of the CLI: a readable timeline per connect, or one JSON object
 * per connect. Also used by scripts/demo.ts to show eyeballs' timeline.
 *
 * @module
 */

import { reasonOf } from "../base/errors.ts";
import type { Attempt, ConnectEvent, Family } from "../base/types.ts";

/** One attempt in the JSON output. Times in ms since the call to connect. */
export interface AttemptRecord {
  /** The address dialled. */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** When the attempt started. */
  readonly startMs: number;
  /** When it ended (null if it never did, which a finished connect does not leave). */
  readonly endMs: number | null;
  /** `won`, `lost`, `failed` or `aborted`. */
  readonly outcome: string;
  /** A short reason for a failure or a cut-short attempt ("refused", "timed out"...), else null. */
  readonly error: string | null;
}

/** The JSON line of a successful connect. */
export interface SuccessRecord {
  /** HOST as given. */
  readonly host: string;
  /** PORT. */
  readonly port: number;
  /** The address connected to. */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** Milliseconds from the call to the connection, resolution included. */
  readonly ms: number;
  /** Every attempt, in start order. */
  readonly attempts: readonly AttemptRecord[];
}

/** The JSON line of a failed connect. */
export interface FailureRecord {
  /** HOST as given. */
  readonly host: string;
  /** PORT. */
  readonly port: number;
  /** The error message; it names every address and why it failed. */
  readonly error: string;
  /** Every attempt, in start order. */
  readonly attempts: readonly AttemptRecord[];
}

/** Times are measured to the microsecond; two decimals are plenty to read. */
const round = (ms: number) => Math.round(ms * 100) / 100;

/** Why an attempt failed, or was aborted by a timeout or the caller; else null. */
function reason(attempt: Attempt): string | null {
  return attempt.error === undefined ? null : reasonOf(attempt.error);
}

/**
 * One attempt as a plain JSON-ready object.
 */
export function attemptRecord(attempt: Attempt): AttemptRecord {
  return {
    address: attempt.address,
    family: attempt.family,
    startMs: round(attempt.startMs),
    endMs: attempt.endMs === undefined ? null : round(attempt.endMs),
    outcome: attempt.outcome,
    error: reason(attempt),
  };
}

/**
 * The JSON line for a connect that succeeded.
 */
export function successRecord(
  host: string,
  port: number,
  result: { address: string; family: Family; ms: number; attempts: readonly Attempt[] },
): SuccessRecord {
  return {
    host,
    port,
    address: result.address,
    family: result.family,
    ms: round(result.ms),
    attempts: result.attempts.map(attemptRecord),
  };
}

/**
 * The JSON line for a connect that failed with `error` (a `ConnectError`
 * carries the attempts; other errors have none).
 */
export function failureRecord(
  host: string,
  port: number,
  error: unknown,
  attempts: readonly Attempt[],
): FailureRecord {
  const message = error instanceof Error ? error.message : String(error);
  return { host, port, error: message, attempts: attempts.map(attemptRecord) };
}

const ms = (value: number) => value.toFixed(1);
const bracketed = (address: string, family: Family) => (family === 6 ? `[${address}]` : address);

/**
 * The readable timeline of one connect: how each family resolved (from
 * the `onEvent` stream), then one row per attempt with its start and end in
 * ms, address, outcome and reason.
 */
export function formatTimeline(events: readonly ConnectEvent[], attempts: readonly Attempt[]): string[] {
  const lines: string[] = [];
  // The policy refuses a family's addresses before that family's "resolved" event, which lists only what is left:
  // hold the refusals, name them in the resolved line, and give their reasons right under it.
  const refusals: Record<Family, Extract<ConnectEvent, { type: "address-refused" }>[]> = { 4: [], 6: [] };
  const reasonLines = (family: Family) =>
    refusals[family].splice(0).map((e) => `${" ".repeat(15)}not dialled: ${e.reason}`);
  for (const event of events) {
    const record = (family: Family) => (family === 6 ? "IPv6 (AAAA)" : "IPv4 (A)");
    if (event.type === "resolved") {
      const refused = refusals[event.family].map((e) => `${e.address} (refused)`);
      const list = [...event.addresses, ...refused].join(", ") || "no address";
      lines.push(
        `  ${ms(event.atMs).padStart(8)} ms  resolved ${record(event.family)}: ${list}`,
        ...reasonLines(event.family),
      );
    } else if (event.type === "resolve-failed") {
      lines.push(
        `  ${ms(event.atMs).padStart(8)} ms  resolving ${record(event.family)} failed: ${reasonOf(event.error)}`,
        ...reasonLines(event.family),
      );
    } else if (event.type === "address-refused") {
      refusals[event.family].push(event);
    } else if (event.type === "history-order") {
      lines.push(`  ${ms(event.atMs).padStart(8)} ms  ${historyOrderLine(event)}`);
    } else if (event.type === "history-delay") {
      lines.push(`  ${ms(event.atMs).padStart(8)} ms  ${historyDelayLine(event)}`);
    } else if (event.type === "network-delay") {
      lines.push(`  ${ms(event.atMs).padStart(8)} ms  ${networkDelayLine(event)}`);
    } else if (event.type === "late-connection-closed") {
      const where = bracketed(event.attempt.address, event.attempt.family);
      lines.push(`  ${ms(event.atMs).padStart(8)} ms  closed a late connection to ${where}`);
    }
  }
  // Refusals no resolved line took: an IP literal's, or the A answer NAT64 would have synthesized.
  lines.push(
    ...[...refusals[4], ...refusals[6]].sort((a, b) => a.atMs - b.atMs).map((e) =>
      `  ${ms(e.atMs).padStart(8)} ms  not dialled: ${e.reason}`
    ),
  );
  if (attempts.length === 0) {
    lines.push("  no attempt was made");
    return lines;
  }
  const rows = attempts.map((a) => [
    String(a.index + 1),
    ms(a.startMs),
    a.endMs === undefined ? "-" : ms(a.endMs),
    bracketed(a.address, a.family),
    a.outcome,
    reason(a) ?? "",
  ]);
  const header = ["#", "start ms", "end ms", "address", "outcome", "reason"];
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Numbers right-aligned, words left-aligned.
  const pad = (cells: string[]) =>
    "  " + cells.map((c, i) => (i < 3 ? c.padStart(width[i]) : i < 5 ? c.padEnd(width[i]) : c)).join("  ").trimEnd();
  lines.push(pad(header), ...rows.map(pad));
  return lines;
}

/** Ages read best in the largest whole unit. */
const age = (ageMs: number) =>
  ageMs < 1000
    ? `${ageMs.toFixed(0)} ms`
    : ageMs < 120_000
    ? `${(ageMs / 1000).toFixed(1)} s`
    : `${(ageMs / 60_000).toFixed(0)} min`;

/**
 * What history did to the order, and why: each known address in the order
 * history ranks them, with its last outcome, its age and RTT.
 */
export function historyOrderLine(event: Extract<ConnectEvent, { type: "history-order" }>): string {
  const describe = (k: (typeof event.addresses)[number]) => {
    const where = bracketed(k.address, k.address.includes(":") ? 6 : 4);
    const rtt = k.state === "connected" && k.srttMs !== undefined ? `, RTT ${ms(k.srttMs)} ms` : "";
    return `${where} (${k.state} ${age(k.ageMs)} ago${rtt})`;
  };
  const first = event.addresses.filter((k) => k.state === "connected").map(describe);
  const last = event.addresses.filter((k) => k.state !== "connected").map(describe);
  const parts = [`IPv${event.preferredFamily} leads`];
  if (first.length) parts.push(`first ${first.join(", ")}`);
  if (last.length) parts.push(`last ${last.join(", ")}`);
  return `history: ${parts.join("; ")}`;
}

/**
 * Why history changed a delay: the RTT it knows of the address just started.
 */
export function historyDelayLine(event: Extract<ConnectEvent, { type: "history-delay" }>): string {
  const where = bracketed(event.address, event.address.includes(":") ? 6 : 4);
  return `history: next attempt after ${ms(event.delayMs)} ms, not ${ms(event.scheduleMs)} ms: ` +
    `${where} connected in ${ms(event.srttMs)} ± ${ms(event.rttvarMs)} ms before`;
}

/**
 * Why the network's RTTs changed the first delay for a host history has not met.
 */
export function networkDelayLine(event: Extract<ConnectEvent, { type: "network-delay" }>): string {
  return `history: next attempt after ${ms(event.delayMs)} ms, not ${ms(event.scheduleMs)} ms: ` +
    `this network's RTT is ${ms(event.srttMs)} ± ${ms(event.rttvarMs)} ms (median of ${event.hosts} hosts)`;
}

/**
 * The closing line of a successful connect.
 */
export function formatSummary(result: { address: string; port: number; ms: number }): string {
  return `connected to ${result.address} port ${result.port} in ${ms(result.ms)} ms`;
}
