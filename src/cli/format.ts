/**
 * Output of the CLI: a readable timeline per connect, or one JSON object
 * per connect. Also used by scripts/demo.ts to show eyeballs' timeline.
 *
 * @module
 */

import { reasonOf } from "../base/errors.ts";
import type { Attempt, ConnectEvent, Family, ServiceEndpoint, ServiceRecord } from "../base/types.ts";

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
  /** The HTTPS/SVCB endpoint the winner came from, when it came from one. */
  readonly endpoint?: EndpointRecord;
  /** What the HTTPS/SVCB records did, when the resolver asked for them. */
  readonly services?: ServicesRecord;
  /** The TLS handshake, with `--tls`. */
  readonly tls?: TlsRecord;
}

/** One HTTPS/SVCB record (RFC 9460) in the JSON output; absent parameters are left out. */
export interface ServiceRecordJson {
  /** SvcPriority: 0 AliasMode, else lower first. */
  readonly priority: number;
  /** TargetName. */
  readonly target: string;
  /** `alpn`. */
  readonly alpn?: readonly string[];
  /** `no-default-alpn`. */
  readonly noDefaultAlpn?: true;
  /** `port`. */
  readonly port?: number;
  /** `ipv4hint`. */
  readonly ipv4hint?: readonly string[];
  /** `ipv6hint`. */
  readonly ipv6hint?: readonly string[];
  /** `ech`, base64 (the ECHConfigList as sent). */
  readonly ech?: string;
  /** `mandatory`, as key numbers. */
  readonly mandatory?: readonly number[];
  /** Keys this library does not know, by number. */
  readonly unknownKeys?: readonly number[];
}

/** The HTTPS/SVCB side of a connect in the JSON output: the records, and everything left out with why. */
export interface ServicesRecord {
  /** When the answer came, in ms since the call. */
  readonly atMs: number;
  /** The name whose records these are: the last AliasMode target, else HOST. */
  readonly name: string;
  /** HOST's aliases followed to reach `name` (AliasMode), when `name` is not HOST. */
  readonly aliasOf?: string;
  /** The usable records, in the server's order. */
  readonly records: readonly ServiceRecordJson[];
  /** Records (or a whole answer) ignored, each with why: malformed, an alias loop, a failed lookup. */
  readonly ignored: readonly string[];
  /** Endpoints left out of the race (no ALPN in common...), each with why. */
  readonly skipped: readonly { readonly target: string; readonly priority: number; readonly reason: string }[];
  /** Hints replaced by the target's real A/AAAA answer: which hints it did not confirm. */
  readonly hintsReplaced: readonly {
    readonly target: string;
    readonly family: Family;
    readonly dropped: readonly string[];
  }[];
}

/** The winner's HTTPS/SVCB endpoint in the JSON output. */
export interface EndpointRecord {
  /** TargetName. */
  readonly target: string;
  /** SvcPriority. */
  readonly priority: number;
  /** The port dialled. */
  readonly port: number;
  /** The ALPN ids both sides speak, record order. */
  readonly alpn: readonly string[];
  /** The record's `ech`, base64. */
  readonly ech?: string;
}

/** The TLS handshake of a `--tls` connect in the JSON output. */
export interface TlsRecord {
  /** Milliseconds from the winner's TCP connection to its finished handshake, when the adapter measured it. */
  readonly handshakeMs: number | null;
  /** The ALPN protocol agreed, or null for none. */
  readonly alpn: string | null;
  /** The server certificate's subject ("CN=example.com, O=..."), or null when the runtime did not give it. */
  readonly subject: string | null;
  /** Its issuer, the same way. */
  readonly issuer: string | null;
}

/** The JSON line of a failed connect. */
export interface FailureRecord {
  /** HOST as given. */
  readonly host: string;
  /** PORT. */
  readonly port: number;
  /** The error message; it names every address and why it failed. */
  readonly error: string;
  /** The error's code, when it has one (`ECONNREFUSED`, a TLS stack's certificate code...). */
  readonly code?: string;
  /** Every attempt, in start order. */
  readonly attempts: readonly AttemptRecord[];
  /** What the HTTPS/SVCB records did, when the resolver asked for them. */
  readonly services?: ServicesRecord;
}

/** Times are measured to the microsecond; two decimals are plenty to read. */
const round = (ms: number) => Math.round(ms * 100) / 100;

/** Why an attempt failed, or was aborted by a timeout or the caller; else null. */
function reason(attempt: Attempt): string | null {
  if (attempt.error === undefined) return null;
  // A failed handshake's message repeats the host and address the row already shows: its cause is the reason.
  const { name, cause } = attempt.error as { name?: unknown; cause?: unknown };
  if (name === "TlsHandshakeError" && cause !== undefined) return `TLS: ${reasonOf(cause)}`;
  return reasonOf(attempt.error);
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
  result: {
    address: string;
    family: Family;
    ms: number;
    attempts: readonly Attempt[];
    endpoint?: ServiceEndpoint;
  },
  events: readonly ConnectEvent[] = [],
  tls?: TlsRecord,
): SuccessRecord {
  const services = servicesRecord(host, events);
  const { endpoint } = result;
  return {
    host,
    port,
    address: result.address,
    family: result.family,
    ms: round(result.ms),
    attempts: result.attempts.map(attemptRecord),
    ...(endpoint && {
      endpoint: {
        target: endpoint.target,
        priority: endpoint.priority,
        port: endpoint.port,
        alpn: endpoint.alpn,
        ...(endpoint.ech && { ech: base64(endpoint.ech) }),
      },
    }),
    ...(services && { services }),
    ...(tls && { tls: { ...tls, handshakeMs: tls.handshakeMs === null ? null : round(tls.handshakeMs) } }),
  };
}

/** Bytes as base64, the way ECHConfigLists are written (in DNS zone files, in `dig`'s output). */
function base64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

/** A name as compared: lower case, no trailing dot. */
const bare = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** One record for the JSON output: its parameters, the absent ones left out. */
export function serviceRecordJson(record: ServiceRecord): ServiceRecordJson {
  const p = record.params;
  return {
    priority: record.priority,
    target: record.target,
    ...(p.alpn && { alpn: p.alpn }),
    ...(p.noDefaultAlpn && { noDefaultAlpn: true as const }),
    ...(p.port !== undefined && { port: p.port }),
    ...(p.ipv4hint && { ipv4hint: p.ipv4hint }),
    ...(p.ipv6hint && { ipv6hint: p.ipv6hint }),
    ...(p.ech && { ech: base64(p.ech) }),
    ...(p.mandatory && { mandatory: p.mandatory }),
    ...(p.unknown.length > 0 && { unknownKeys: p.unknown.map((u) => u.key) }),
  };
}

/**
 * The HTTPS/SVCB side of a connect from its events, for the JSON output: undefined when the race had none (no
 * lookup was made: another port, an IP literal, getaddrinfo).
 */
export function servicesRecord(host: string, events: readonly ConnectEvent[]): ServicesRecord | undefined {
  let answer: Extract<ConnectEvent, { type: "service-records" }> | undefined;
  const skipped: ServicesRecord["skipped"][number][] = [];
  const hintsReplaced: ServicesRecord["hintsReplaced"][number][] = [];
  for (const event of events) {
    if (event.type === "service-records") answer ??= event;
    else if (event.type === "endpoint-skipped") {
      skipped.push({ target: event.target, priority: event.priority, reason: event.reason });
    } else if (event.type === "hints-replaced") {
      hintsReplaced.push({ target: event.target, family: event.family, dropped: event.dropped });
    }
  }
  if (answer === undefined && skipped.length === 0 && hintsReplaced.length === 0) return undefined;
  const name = answer?.name ?? host;
  return {
    atMs: round(answer?.atMs ?? 0),
    name,
    ...(bare(name) !== bare(host) && { aliasOf: host }),
    records: (answer?.records ?? []).map(serviceRecordJson),
    ignored: (answer?.skipped ?? []).map((s) => s.reason),
    skipped,
    hintsReplaced,
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
  events: readonly ConnectEvent[] = [],
): FailureRecord {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  const services = servicesRecord(host, events);
  return {
    host,
    port,
    error: message,
    ...(typeof code === "string" && { code }),
    attempts: attempts.map(attemptRecord),
    ...(services && { services }),
  };
}

const ms = (value: number) => value.toFixed(1);
const bracketed = (address: string, family: Family) => (family === 6 ? `[${address}]` : address);

/**
 * The readable timeline of one connect: how each family resolved (from
 * the `onEvent` stream), the HTTPS/SVCB records and what the race made of
 * them, then one row per attempt with its start and end in ms, address,
 * outcome and reason. `host` (as given) lets the records' line say when an
 * alias was followed.
 */
export function formatTimeline(
  events: readonly ConnectEvent[],
  attempts: readonly Attempt[],
  host?: string,
): string[] {
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
    } else if (
      event.type === "service-records" || event.type === "endpoint-skipped" || event.type === "hints-replaced"
    ) {
      const [first, ...more] = serviceLines(event, host);
      lines.push(`  ${ms(event.atMs).padStart(8)} ms  ${first}`, ...more.map((l) => `${" ".repeat(15)}${l}`));
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

/** A record's parameters in presentation order, as `dig` writes them (hints bracket-free, `ech` by its size). */
function recordParams(record: ServiceRecord): string {
  const p = record.params;
  const parts: string[] = [];
  if (p.mandatory) parts.push(`mandatory=${p.mandatory.join(",")}`);
  if (p.alpn) parts.push(`alpn=${p.alpn.join(",")}`);
  if (p.noDefaultAlpn) parts.push("no-default-alpn");
  if (p.port !== undefined) parts.push(`port=${p.port}`);
  if (p.ipv4hint) parts.push(`ipv4hint=${p.ipv4hint.join(",")}`);
  if (p.ech) parts.push(`ech=(${p.ech.length} bytes)`);
  if (p.ipv6hint) parts.push(`ipv6hint=${p.ipv6hint.join(",")}`);
  for (const u of p.unknown) parts.push(`key${u.key}=(${u.value.length} bytes)`);
  return parts.join(" ");
}

/**
 * The lines of one HTTPS/SVCB event (RFC 9460): the first goes on the timeline with its time, the others under it.
 * The records' event lists each usable record (priority, target, parameters) in the order the race groups them
 * (lower priority first, addresses without a record last), then each record ignored and why.
 */
export function serviceLines(
  event: Extract<ConnectEvent, { type: "service-records" | "endpoint-skipped" | "hints-replaced" }>,
  host?: string,
): string[] {
  if (event.type === "endpoint-skipped") {
    return [`HTTPS endpoint skipped: ${event.target} (priority ${event.priority}): ${event.reason}`];
  }
  if (event.type === "hints-replaced") {
    const record = event.family === 6 ? "AAAA" : "A";
    const dropped = event.dropped.length
      ? `dropped hint${event.dropped.length === 1 ? "" : "s"} ${event.dropped.join(", ")} (not in it)`
      : "every hint confirmed";
    return [`hints for ${event.target} replaced by its ${record} answer: ${dropped}`];
  }
  const { name, records, skipped } = event;
  const alias = host !== undefined && bare(host) !== bare(name) ? ` (alias of ${host}, followed)` : "";
  const service = records.filter((r) => r.priority > 0);
  const count = service.length === 0 ? "none usable" : `${service.length} record${service.length === 1 ? "" : "s"}`;
  const lines = [`HTTPS records for ${name}${alias}: ${count}`];
  const priorities = [...new Set(service.map((r) => r.priority))].sort((a, b) => a - b);
  priorities.forEach((priority, i) => {
    for (const record of service.filter((r) => r.priority === priority)) {
      const params = recordParams(record);
      lines.push(`group ${i + 1} (priority ${priority}): ${record.target}${params ? ` ${params}` : ""}`);
    }
  });
  const own = host ?? name;
  if (service.length && !service.some((r) => bare(r.target) === bare(own))) {
    lines.push(`group ${priorities.length + 1}: ${own}'s own A/AAAA answers (no record names it)`);
  }
  for (const { reason } of skipped) lines.push(`ignored: ${reason}`);
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
 * The `--tls` line: the winner's handshake time, the ALPN protocol agreed, the certificate's subject and issuer.
 */
export function formatTls(tls: TlsRecord): string {
  const time = tls.handshakeMs === null ? "" : ` in ${ms(tls.handshakeMs)} ms`;
  const subject = tls.subject === null ? "certificate subject unknown" : `certificate ${tls.subject}`;
  const issuer = tls.issuer === null ? "" : ` (issuer ${tls.issuer})`;
  return `TLS handshake${time}: ALPN ${tls.alpn ?? "none"}, ${subject}${issuer}`;
}

/**
 * The closing line of a successful connect.
 */
export function formatSummary(result: { address: string; port: number; ms: number }): string {
  return `connected to ${result.address} port ${result.port} in ${ms(result.ms)} ms`;
}
