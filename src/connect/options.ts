/**
 * What a connect is asked to do: its settings, its options and its result.
 *
 * @module
 */

import type { Attempt, Clock, ConnectEvent, Dialer, Family, Resolver, ServiceEndpoint } from "../base/types.ts";
import type { Schedule } from "../race/schedule.ts";
import type { History } from "../history/history.ts";
import type { AddressPolicy } from "../addresses/policy.ts";
import type { SourceAddress } from "../addresses/rfc6724.ts";

/**
 * Tuning shared by the core and every adapter. All fields are optional.
 *
 * @example
 * ```ts
 * import { fixedDelay, type RaceSettings } from "@eyeballs/connect";
 * const settings: RaceSettings = { schedule: fixedDelay(250), timeout: 10_000 };
 * ```
 */
export interface RaceSettings {
  /**
   * Delay between attempt starts. Default {@linkcode defaultSchedule} (halving from 250 ms, floor 10 ms), whose delays
   * history replaces from measured RTTs: the host's own, or for a host never met the network's (docs/history.md).
   * A schedule set here is used as given for a host history has no RTT for.
   */
  readonly schedule?: Schedule;
  /** How long an IPv4 answer waits for the IPv6 one, in ms (RFC 8305: 50). */
  readonly resolutionDelay?: number;
  /** Addresses of the preferred family tried before the first of the other (RFC 8305: 1). */
  readonly firstAddressFamilyCount?: number;
  /** The family tried first. Default 6. */
  readonly preferredFamily?: Family;
  /** Only use this family. Default: both. */
  readonly family?: Family;
  /** At most this many attempts connecting at once. Default 48. */
  readonly maxAttemptsInFlight?: number;
  /** Gives up after this many ms in all, resolution included; the error names every address. Default: none. */
  readonly timeout?: number;
  /** Aborts the connect: every socket is released, the promise rejects with the signal's reason (at once if fired). */
  readonly signal?: AbortSignal;
  /** Told of every resolution, attempt and timer event as it happens, never after settling; its throws are ignored. */
  readonly onEvent?: (event: ConnectEvent) => void;
  /** The clock; tests inject a fake one. */
  readonly clock?: Clock;
  /**
   * Where races to a name learn from earlier ones (order, delay): see
   * docs/history.md. Default {@linkcode defaultHistory}, one in-memory store
   * per process (only when `clock` is the real one: its RTTs are real
   * milliseconds); `false` turns history off.
   */
  readonly history?: History | false;
  /**
   * The network this host is on, as history partitions by it: what a race learns on one network is not used
   * on another (see `networkId`). The adapters fill it in from the interfaces and default gateways;
   * undefined: one partition for every network.
   */
  readonly network?: string;
  /**
   * The ALPN protocol ids the caller can speak (a TLS caller's list, e.g. `["h2", "http/1.1"]`). With a resolver
   * that reads HTTPS records, an endpoint offering none of them is skipped (RFC 9460 §7.1). Default: any protocol
   * over TCP (only endpoints that speak nothing but h3 are skipped).
   */
  readonly alpn?: readonly string[];
  /**
   * The scheme whose SVCB records to ask for (`_port._scheme.name`, RFC 9460 §2.3); default: HTTPS records for
   * port 443 only. `"https"` asks HTTPS records on any port.
   */
  readonly scheme?: string;
  /**
   * Sees every address (resolved, literal, or NAT64-synthesized) before it is dialled, and can refuse it: refused
   * addresses get no SYN and appear in the ConnectError as "refused by policy". See {@linkcode denyAddresses}.
   */
  readonly addressPolicy?: AddressPolicy;
  /**
   * This host's addresses, for RFC 6724 destination ordering across families and for NAT64 detection. The
   * adapters fill them in from the network interfaces; without them (or with `[]`) the resolver's order stands.
   */
  readonly sourceAddresses?: readonly (string | SourceAddress)[];
  /**
   * The NAT64 prefix ("64:ff9b::/96") used when `sourceAddresses` show no IPv4 route; default: discovered from
   * `ipv4only.arpa` (RFC 7050). `false`: never synthesize IPv6 addresses for IPv4 ones.
   */
  readonly nat64Prefix?: string | false;
}

/**
 * Everything `connect` needs: where to, how to dial, how to resolve.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "@eyeballs/connect";
 * const options: ConnectOptions<string> = {
 *   hostname: "192.0.2.1", port: 443, dialer: { dial: (t) => Promise.resolve(t.address), close: () => {} },
 * };
 * ```
 */
export interface ConnectOptions<Conn> extends RaceSettings {
  /** A DNS name or an IP literal (IPv6 may be bracketed). Literals skip resolution. */
  readonly hostname: string;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
  /** Dials one address. */
  readonly dialer: Dialer<Conn>;
  /** Resolves names; required unless `hostname` is an IP literal. */
  readonly resolver?: Resolver;
}

/**
 * A connection and how it was won.
 *
 * @example
 * ```ts
 * import type { Connected } from "@eyeballs/connect";
 * const summary = (c: Connected<unknown>) => `${c.address} in ${c.ms.toFixed(0)} ms`;
 * ```
 */
export interface Connected<Conn> {
  /** The open connection: the caller now owns it. */
  readonly conn: Conn;
  /** The address it is connected to. */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** The port. */
  readonly port: number;
  /** Milliseconds from the call to the connection, resolution included. */
  readonly ms: number;
  /** The race's timeline: every attempt in start order. */
  readonly attempts: readonly Attempt[];
  /** The HTTPS/SVCB endpoint the winner came from (its ALPN and ECH config), when it came from one. */
  readonly endpoint?: ServiceEndpoint;
}
