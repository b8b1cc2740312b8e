/**
 * eyeballs for Deno: `connect` resolves both families in parallel and races
 * the addresses with `Deno.connect`, returning a connected `Deno.TcpConn`.
 *
 * Unlike `Deno.connect` alone, a failed or silent address does not stall
 * the connect, and the system resolver's order is kept.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/deno";
 * const conn = await connect({ hostname: "localhost", port: 8080, timeout: 5000 });
 * await conn.write(new TextEncoder().encode("hello\n"));
 * conn.close();
 * ```
 *
 * @module
 */

import type { Connected, RaceSettings } from "../../connect/connect.ts";
import type { Resolver } from "../../base/types.ts";
import { connectWith } from "../shared/connect.ts";
import type { SocketOptions } from "../shared/options.ts";
import { DENO } from "./dialer.ts";

export { systemResolver } from "../../dns/system.ts";
export { createStubResolver, stubResolver } from "../../dns/lazy_stub.ts";
export type { StubResolver, StubResolverOptions } from "../../dns/stub.ts";
export { FileHistory, type FileHistoryOptions } from "../shared/file_history.ts";
export { denoDialer } from "./dialer.ts";
export { connectTls, type DenoTlsOptions, TlsHandshakeError } from "./tls.ts";

/**
 * Options for {@linkcode connect}: `hostname`, `port` and `transport: "tcp"`
 * as in `Deno.connect` (`port` may be a string of digits), `noDelay` and
 * `keepAlive` (set on the winner, as `conn.setNoDelay` / `conn.setKeepAlive`
 * would), plus the race settings. Any other option is a TypeError naming it.
 */
export interface DenoConnectOptions extends RaceSettings, Pick<SocketOptions, "noDelay" | "keepAlive"> {
  /** A DNS name or an IP literal, without a port. */
  readonly hostname: string;
  /** The TCP port, 1 to 65535, or a string of digits. */
  readonly port: number | string;
  /** Only `"tcp"`, as for `Deno.connect`. */
  readonly transport?: "tcp";
  /** Resolves names. Default {@linkcode systemResolver} (getaddrinfo, honours /etc/hosts). */
  readonly resolver?: Resolver;
}

/**
 * Connects to `hostname:port`, Happy Eyeballs style, and returns the
 * connection. Throws a TypeError or RangeError naming the bad field, a
 * `ConnectError` (an AggregateError naming every address) when nothing
 * connects, or the signal's reason on abort.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/deno";
 * const tcp = await connect({ hostname: "example.com", port: 443 });
 * const tls = await Deno.startTls(tcp, { hostname: "example.com" });
 * ```
 */
export function connect(options: DenoConnectOptions): Promise<Deno.TcpConn> {
  return connectWith(options, DENO, false);
}

/**
 * {@linkcode connect}, returning the race's timeline with the connection:
 * the address that won, its family, the time taken and every attempt.
 *
 * @example
 * ```ts
 * import { connectWithTimeline } from "@eyeballs/connect/deno";
 * const { conn, address, attempts } = await connectWithTimeline({ hostname: "localhost", port: 8080 });
 * console.log(`${address} after ${attempts.length} attempt(s)`);
 * conn.close();
 * ```
 */
export function connectWithTimeline(options: DenoConnectOptions): Promise<Connected<Deno.TcpConn>> {
  return connectWith(options, DENO, true);
}
