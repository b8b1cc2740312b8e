/**
 * The small interfaces the runtime-agnostic core is written against.
 *
 * An adapter (Deno, Node, Bun) supplies a {@linkcode Dialer} and a
 * {@linkcode Resolver}; the core rooms (base, race, addresses,
 * history, connect) are plain TypeScript.
 *
 * @module
 */

/**
 * An IP address family: `4` for IPv4, `6` for IPv6.
 *
 * @example
 * ```ts
 * import type { Family } from "@eyeballs/connect";
 * const family: Family = "192.0.2.1".includes(":") ? 6 : 4;
 * ```
 */
export type Family = 4 | 6;

/** The family that is not `family`. */
export function otherFamily(family: Family): Family {
  return family === 6 ? 4 : 6;
}

/**
 * One address to dial: an IP literal, its family, and the port.
 *
 * @example
 * ```ts
 * import type { Target } from "@eyeballs/connect";
 * const target: Target = { address: "2001:db8::1", family: 6, port: 443 };
 * ```
 */
export interface Target {
  /** The IP address, in canonical text form (no brackets, no zone). */
  readonly address: string;
  /** The address family. */
  readonly family: Family;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
}

/**
 * Opens one connection to one IP address. The race calls `dial` once per
 * attempt and `close` on every connection it does not hand to the caller.
 *
 * `dial` must honour `signal`: once it is aborted, the pending connect must be
 * cancelled (its socket released) and the promise may reject. A connection that
 * still resolves after the abort is closed by the race.
 *
 * @example
 * ```ts
 * import type { Dialer, Target } from "@eyeballs/connect";
 * // A toy dialer: "connects" to any address ending in .2
 * const dialer: Dialer<string> = {
 *   dial: (t: Target, _signal: AbortSignal) =>
 *     t.address.endsWith(".2") ? Promise.resolve(t.address) : Promise.reject(new Error("refused")),
 *   close: (_conn: string) => {},
 * };
 * ```
 */
export interface Dialer<Conn> {
  /** Connects to `target`; rejects on failure or once `signal` aborts. */
  dial(target: Target, signal: AbortSignal): Promise<Conn>;
  /** Closes a connection that lost the race. Must not throw. */
  close(conn: Conn): void;
}

/**
 * Resolves one name for one address family, so that both families can be
 * asked in parallel.
 *
 * @example
 * ```ts
 * import type { Family, Resolver } from "@eyeballs/connect";
 * const hosts: Resolver = {
 *   resolve: (_name: string, family: Family, _signal: AbortSignal) =>
 *     Promise.resolve(family === 6 ? ["::1"] : ["127.0.0.1"]),
 * };
 * ```
 */
export interface Resolver {
  /**
   * Returns the addresses of `hostname` in `family`, in the order to try
   * them. An empty array means the name has no address in that family.
   */
  resolve(hostname: string, family: Family, signal: AbortSignal): Promise<string[]>;
  /**
   * Optional: the same lookup, with how long the answer may be kept (the
   * DNS TTL). A resolver that has it (the stub resolver) offers it so that a
   * cache can honour it; resolvers without it are never cached.
   */
  resolveWithTtl?(hostname: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses>;
  /**
   * Optional: the HTTPS (RFC 9460) records for `hostname` on `port`, or for a named service's SVCB records
   * (`_port._scheme.name`), AliasMode followed; undefined when there is nothing to ask for this port and
   * scheme. A resolver without it (getaddrinfo) races on A and AAAA alone, as before.
   */
  resolveServices?(
    hostname: string,
    port: number,
    signal: AbortSignal,
    scheme?: string,
  ): Promise<ServiceAnswer | undefined>;
}

/**
 * The SvcParams of one SVCB or HTTPS record (RFC 9460 §7), decoded. Absent
 * keys are undefined; keys this library does not know are kept in `unknown`.
 *
 * @example
 * ```ts
 * import type { ServiceParams } from "@eyeballs/connect/dns";
 * const params: ServiceParams = { alpn: ["h2", "http/1.1"], noDefaultAlpn: false, ipv4hint: ["192.0.2.1"], unknown: [] };
 * ```
 */
export interface ServiceParams {
  /** Key 0: the keys a client must understand to use the record. */
  readonly mandatory?: readonly number[];
  /** Key 1: the ALPN protocol ids offered, in the server's order. */
  readonly alpn?: readonly string[];
  /** Key 2: the scheme's default protocol (http/1.1 for HTTPS) is not offered. */
  readonly noDefaultAlpn: boolean;
  /** Key 3: the port to use instead of the scheme's. */
  readonly port?: number;
  /** Key 4: IPv4 addresses to use until the A answer for the target arrives. */
  readonly ipv4hint?: readonly string[];
  /** Key 5: the server's ECHConfigList (draft-ietf-tls-esni), as sent. */
  readonly ech?: Uint8Array;
  /** Key 6: IPv6 addresses to use until the AAAA answer for the target arrives. */
  readonly ipv6hint?: readonly string[];
  /** Keys not listed above, as sent. */
  readonly unknown: readonly { readonly key: number; readonly value: Uint8Array }[];
}

/**
 * One SVCB or HTTPS record (RFC 9460): AliasMode (priority 0) names another
 * name to ask; ServiceMode names an endpoint and its parameters.
 *
 * @example
 * ```ts
 * import type { ServiceRecord } from "@eyeballs/connect/dns";
 * const record: ServiceRecord = {
 *   priority: 1, target: "example.com", params: { alpn: ["h2"], noDefaultAlpn: false, unknown: [] },
 * };
 * ```
 */
export interface ServiceRecord {
  /** 0: AliasMode; 1 and up: ServiceMode, lower first. */
  readonly priority: number;
  /** The TargetName, without the trailing dot; "." in the record (the owner name) is already replaced by it. */
  readonly target: string;
  /** Its SvcParams (none in AliasMode: they are ignored there). */
  readonly params: ServiceParams;
}

/**
 * The HTTPS/SVCB endpoint an address came from, as `connect` reports it for
 * the winner: what a TLS stack needs (ALPN ids the caller offered that the
 * endpoint supports, in the record's order; the ECHConfigList).
 *
 * @example
 * ```ts
 * import type { ServiceEndpoint } from "@eyeballs/connect/dns";
 * const endpoint: ServiceEndpoint = { target: "example.com", priority: 1, port: 443, alpn: ["h2"] };
 * ```
 */
export interface ServiceEndpoint {
  /** The record's TargetName. */
  readonly target: string;
  /** The record's SvcPriority. */
  readonly priority: number;
  /** The port dialled (the record's `port`, else the caller's). */
  readonly port: number;
  /** The protocols both sides speak, in the record's order. */
  readonly alpn: readonly string[];
  /** The record's `ech` (an ECHConfigList), when it has one. */
  readonly ech?: Uint8Array;
}

/**
 * The HTTPS or SVCB records of a name, as {@linkcode Resolver.resolveServices}
 * returns them: AliasMode already followed.
 *
 * @example
 * ```ts
 * import type { ServiceAnswer } from "@eyeballs/connect/dns";
 * const none: ServiceAnswer = { name: "example.com", records: [], skipped: [], ttl: 0 };
 * ```
 */
export interface ServiceAnswer {
  /** The name whose ServiceMode records these are (the last AliasMode target, else the name asked). */
  readonly name: string;
  /** True when AliasMode records led to `name`: it is then an endpoint itself, after its records (RFC 9460 §3). */
  readonly aliased?: boolean;
  /** The usable ServiceMode records, in the server's order. */
  readonly records: readonly ServiceRecord[];
  /** Records (or alias chains) left out, each with why: malformed, an unsupported mandatory key, an alias loop. */
  readonly skipped: readonly { readonly reason: string }[];
  /** Seconds the answer may be kept. */
  readonly ttl: number;
}

/**
 * Addresses with their lifetime, as {@linkcode Resolver.resolveWithTtl} returns them.
 *
 * @example
 * ```ts
 * import type { ResolvedAddresses } from "@eyeballs/connect/dns";
 * const answer: ResolvedAddresses = { addresses: ["192.0.2.1"], ttl: 300 };
 * ```
 */
export interface ResolvedAddresses {
  /** The addresses, in the order to try them. */
  readonly addresses: string[];
  /** Seconds the answer may be reused (0: not at all). */
  readonly ttl: number;
}

/**
 * A source of time and timers. The default is the real clock; tests inject a
 * fake one so that schedules are checked without real sleeps.
 *
 * @example
 * ```ts
 * import type { Clock } from "@eyeballs/connect/race";
 * const clock: Clock = {
 *   now: () => performance.now(),
 *   setTimer: (fn: () => void, ms: number) => {
 *     const id = setTimeout(fn, ms);
 *     return () => clearTimeout(id);
 *   },
 * };
 * ```
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `callback` once after `ms`; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

/**
 * How an attempt ended:
 * - `pending`: still connecting;
 * - `won`: connected first, handed to the caller;
 * - `lost`: connected, but another attempt had already won, so it was closed;
 * - `failed`: the connect failed (see `error`);
 * - `aborted`: still connecting when the race ended, so it was cancelled.
 */
export type AttemptOutcome = "pending" | "won" | "lost" | "failed" | "aborted";

/**
 * One connection attempt in the race, with its place on the timeline.
 * Times are milliseconds since the call to connect.
 *
 * @example
 * ```ts
 * import type { Attempt } from "@eyeballs/connect";
 * const line = (a: Attempt) => `${a.address} ${a.startMs}..${a.endMs} ${a.outcome}`;
 * ```
 */
export interface Attempt extends Target {
  /** 0 for the first attempt, 1 for the second... */
  readonly index: number;
  /** When the attempt started. */
  readonly startMs: number;
  /** When the attempt ended; undefined while pending. */
  endMs?: number;
  /** How the attempt ended. */
  outcome: AttemptOutcome;
  /** Why it failed, for `failed`; for `aborted`, the reason when a timeout or the caller's signal cut the race short. */
  error?: unknown;
}

/**
 * What happens during a connect, reported as it happens through the
 * `onEvent` option. `atMs` counts from the call to connect.
 *
 * @example
 * ```ts
 * import type { ConnectEvent } from "@eyeballs/connect";
 * const log = (e: ConnectEvent) => console.log(e.atMs.toFixed(1), e.type);
 * ```
 */
export type ConnectEvent =
  | { type: "resolved"; atMs: number; family: Family; addresses: readonly string[] }
  | { type: "resolve-failed"; atMs: number; family: Family; error: unknown }
  | { type: "address-refused"; atMs: number; address: string; family: Family; reason: string }
  | { type: "attempt-start"; atMs: number; attempt: Attempt }
  | { type: "attempt-failed"; atMs: number; attempt: Attempt; error: unknown }
  | { type: "attempt-won"; atMs: number; attempt: Attempt }
  | { type: "attempt-lost"; atMs: number; attempt: Attempt }
  | { type: "attempt-aborted"; atMs: number; attempt: Attempt }
  | { type: "late-connection-closed"; atMs: number; attempt: Attempt }
  | { type: "timer-expired"; atMs: number; expiries: number }
  /** History knew the host: `addresses` in the order it ranks them, and the family it lets lead. */
  | { type: "history-order"; atMs: number; preferredFamily: Family; addresses: readonly KnownAddress[] }
  /** The HTTPS/SVCB answer (RFC 9460) for the name: its usable records, and the records left out with why. */
  | {
    type: "service-records";
    atMs: number;
    name: string;
    records: readonly ServiceRecord[];
    skipped: readonly { readonly reason: string }[];
  }
  /** A ServiceMode record (an endpoint) left out of the race, and why (no ALPN the caller offers, say). */
  | { type: "endpoint-skipped"; atMs: number; target: string; priority: number; reason: string }
  /** The real A or AAAA answer for an endpoint's target replaced its hints: `dropped` hints it did not confirm. */
  | { type: "hints-replaced"; atMs: number; target: string; family: Family; dropped: readonly string[] }
  /** The delay after starting `address` came from its measured RTT instead of the schedule. */
  | {
    type: "history-delay";
    atMs: number;
    address: string;
    delayMs: number;
    scheduleMs: number;
    srttMs: number;
    rttvarMs: number;
  }
  /** The delay after the first start came from the network's RTTs (`hosts` hosts measured), for a host never met. */
  | {
    type: "network-delay";
    atMs: number;
    delayMs: number;
    scheduleMs: number;
    srttMs: number;
    rttvarMs: number;
    hosts: number;
  };

/**
 * What an address did last:
 * - `connected`: it won a race;
 * - `lost`: another address won while it was still connecting (aborted) or
 *   connected later (closed);
 * - `failed`: its connect failed (refused, unreachable, ...).
 */
export type AddressState = "connected" | "lost" | "failed";

/**
 * What history knows of one address when a race asks.
 *
 * @example
 * ```ts
 * import type { KnownAddress } from "@eyeballs/connect/history";
 * const line = (a: KnownAddress) => `${a.address} ${a.state} ${a.ageMs} ms ago`;
 * ```
 */
export interface KnownAddress {
  /** The address, canonical. */
  readonly address: string;
  /** Its last outcome. */
  readonly state: AddressState;
  /** Smoothed RTT in ms (RFC 6298's SRTT), when it ever connected. */
  readonly srttMs?: number;
  /** RTT variation in ms (RFC 6298's RTTVAR), with `srttMs`. */
  readonly rttvarMs?: number;
  /** How long ago the last outcome was recorded, in ms. */
  readonly ageMs: number;
}
