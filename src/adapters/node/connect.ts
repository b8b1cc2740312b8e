/**
 * The Node adapter's `connect`: options as `net.connect` takes them, the
 * race, the socket options on the winner.
 *
 * @module
 */

import type net from "node:net";
import type { Connected, RaceSettings } from "../../connect/connect.ts";
import type { Resolver } from "../../base/types.ts";
import { connectWith } from "../shared/connect.ts";
import { netKind } from "../shared/net_dialer.ts";
import type { SocketOptions } from "../shared/options.ts";

/**
 * Options for {@linkcode connect}: `host` and `port` as in `net.connect`
 * (`port` may be a string of digits), the socket options a race can honour,
 * plus the race settings. `timeout` bounds the whole connect (resolution
 * included); it is not `net.connect`'s idle timeout: call `setTimeout` on the
 * socket for that. Any other option is a TypeError naming it.
 */
export interface NodeConnectOptions extends RaceSettings, SocketOptions {
  /** A DNS name or an IP literal, without a port. */
  readonly host: string;
  /** The TCP port, 1 to 65535, or a string of digits. */
  readonly port: number | string;
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf
   * says `hosts: files dns`, else `systemResolver` (getaddrinfo).
   */
  readonly resolver?: Resolver;
}

const NODE = netKind("host");

/**
 * Connects to `host:port`, Happy Eyeballs style, and returns the connected
 * socket. Data the server sends at once (a banner) waits in the socket until
 * you read it. Throws a TypeError or RangeError naming the bad field, a
 * `ConnectError` (an AggregateError naming every address) when nothing
 * connects, or the signal's reason on abort.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/node";
 * import tls from "node:tls";
 * const socket = await connect({ host: "example.com", port: 443 });
 * const secure = tls.connect({ socket, servername: "example.com" });
 * ```
 */
export function connect(options: NodeConnectOptions): Promise<net.Socket> {
  return connectWith(options, NODE, false);
}

/**
 * {@linkcode connect}, returning the race's timeline with the socket: the
 * address that won, its family, the time taken and every attempt.
 *
 * @example
 * ```ts
 * import { connectWithTimeline } from "@eyeballs/connect/node";
 * const { conn, address, attempts } = await connectWithTimeline({ host: "localhost", port: 8080 });
 * console.log(`${address} after ${attempts.length} attempt(s)`);
 * conn.end();
 * ```
 */
export function connectWithTimeline(options: NodeConnectOptions): Promise<Connected<net.Socket>> {
  return connectWith(options, NODE, true);
}
