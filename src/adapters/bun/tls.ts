/**
 * TLS on the winner under Bun: the TCP race over Bun's `node:net`, then
 * `tls.connect({ socket })` on the connection that won.
 *
 * @module
 */

import type tls from "node:tls";
import type { RaceSettings } from "../../connect/connect.ts";
import type { Resolver } from "../../base/types.ts";
import type { SocketOptions } from "../shared/options.ts";
import { connectTlsAs, type TlsSettings } from "../node/tls.ts";
import type { RaceUntil } from "../shared/tls_race.ts";

export { TlsHandshakeError } from "../shared/handshake.ts";
export type { TlsSettings } from "../node/tls.ts";

/**
 * Options for {@linkcode connectTls}: those of the Bun adapter's `connect`
 * plus the `node:tls` settings. SNI defaults to `hostname` when it is a name.
 *
 * @example
 * ```ts
 * import { connectTls, type BunTlsOptions } from "@eyeballs/connect/bun";
 * const options: BunTlsOptions = { hostname: "example.com", port: 443, ALPNProtocols: ["http/1.1"] };
 * const socket = await connectTls(options);
 * ```
 */
export interface BunTlsOptions extends RaceSettings, SocketOptions, TlsSettings {
  /** A DNS name or an IP literal, without a port. */
  readonly hostname: string;
  /** Where the race ends: `"tls"` (default) at the first finished handshake, `"tcp"` at the first TCP connection. */
  readonly raceUntil?: RaceUntil;
  /** The TCP port, or a string of digits. */
  readonly port: number | string;
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf says
   * `hosts: files dns`, else `systemResolver` (getaddrinfo). The same under Node, Bun and Deno's `node:net`.
   */
  readonly resolver?: Resolver;
}

/**
 * Races TCP to `hostname:port`, then runs TLS on the winner; resolves once
 * the handshake is done. A failed handshake is a `TlsHandshakeError` naming
 * the host and the address.
 *
 * @example
 * ```ts
 * import { connectTls } from "@eyeballs/connect/bun";
 * const socket = await connectTls({ hostname: "example.com", port: 443, ALPNProtocols: ["http/1.1"] });
 * socket.end("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
 * ```
 */
export function connectTls(options: BunTlsOptions): Promise<tls.TLSSocket> {
  return connectTlsAs(options, "hostname");
}
