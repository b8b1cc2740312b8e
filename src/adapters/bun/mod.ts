/**
 * eyeballs for Bun: `connect` resolves both families in parallel and races
 * the addresses, returning a connected `net.Socket`.
 *
 * It dials through Bun's `node:net`, not `Bun.connect`: a pending
 * `Bun.connect` cannot be cancelled, so a losing attempt to a silent address
 * would hold a file descriptor and keep the process alive until the kernel
 * gives up (about two minutes). Bun's `node:net` sockets can be destroyed
 * mid-connect.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/bun";
 * const socket = await connect({ hostname: "localhost", port: 8080, timeout: 5000 });
 * socket.on("data", (chunk) => console.log(String(chunk)));
 * ```
 *
 * @module
 */

import type net from "node:net";
import type { Connected, RaceSettings } from "../../connect/connect.ts";
import type { Resolver } from "../../base/types.ts";
import { connectWith } from "../shared/connect.ts";
import { netKind } from "../shared/net_dialer.ts";
import type { SocketOptions } from "../shared/options.ts";

export { netDialer, type NetDialerOptions, nodeDialer } from "../shared/net_dialer.ts";
export { autoResolver } from "../../dns/auto.ts";
export { systemResolver } from "../../dns/system.ts";
export { createStubResolver, stubResolver } from "../../dns/stub.ts";
export type { StubResolver, StubResolverOptions } from "../../dns/stub.ts";
export { FileHistory, type FileHistoryOptions } from "../shared/file_history.ts";
export type { SocketOptions } from "../shared/options.ts";
export { TRACE_CHANNELS } from "../shared/tracing.ts";
export { type BunTlsOptions, connectTls, TlsHandshakeError, type TlsSettings } from "./tls.ts";

/**
 * Options for {@linkcode connect}: `hostname` and `port` as in `Bun.connect`
 * (`port` may be a string of digits), the `node:net` socket options a race
 * can honour, plus the race settings. `timeout` bounds the whole connect.
 * Any other option is a TypeError naming it.
 */
export interface BunConnectOptions extends RaceSettings, SocketOptions {
  /** A DNS name or an IP literal, without a port. */
  readonly hostname: string;
  /** The TCP port, 1 to 65535, or a string of digits. */
  readonly port: number | string;
  /**
   * Resolves names. Default {@linkcode autoResolver}: the stub resolver behind a TTL cache when
   * /etc/nsswitch.conf says `hosts: files dns`, else {@linkcode systemResolver} (getaddrinfo).
   */
  readonly resolver?: Resolver;
}

const BUN = netKind("hostname");

/**
 * Connects to `hostname:port`, Happy Eyeballs style, and returns the
 * connected socket. Data the server sends at once (a banner) waits in the
 * socket until you attach a `data` handler. Throws a TypeError or
 * RangeError naming the bad field, a `ConnectError` (an AggregateError
 * naming every address) when nothing connects, or the signal's reason on
 * abort.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/bun";
 * const socket = await connect({ hostname: "localhost", port: 6379 });
 * socket.write("PING\r\n");
 * ```
 */
export function connect(options: BunConnectOptions): Promise<net.Socket> {
  return connectWith(options, BUN, false);
}

/**
 * {@linkcode connect}, returning the race's timeline with the socket: the
 * address that won, its family, the time taken and every attempt.
 *
 * @example
 * ```ts
 * import { connectWithTimeline } from "@eyeballs/connect/bun";
 * const { conn, address, attempts } = await connectWithTimeline({ hostname: "localhost", port: 8080 });
 * console.log(`${address} after ${attempts.length} attempt(s)`);
 * conn.end();
 * ```
 */
export function connectWithTimeline(options: BunConnectOptions): Promise<Connected<net.Socket>> {
  return connectWith(options, BUN, true);
}
