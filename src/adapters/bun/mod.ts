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
import type { RaceSettings } from "../../core/connect.ts";
import type { Resolver } from "../../core/types.ts";
import { adapterConnect } from "../shared/connect.ts";
import { nodeDialer } from "../shared/net_dialer.ts";
import { autoResolver } from "../shared/default_resolver.ts";

export { nodeDialer } from "../shared/net_dialer.ts";
export { autoResolver } from "../shared/default_resolver.ts";
export { systemResolver } from "../shared/system_resolver.ts";
export { createStubResolver, stubResolver } from "../shared/stub_resolver.ts";
export type { StubResolver, StubResolverOptions } from "../shared/stub_resolver.ts";

/** Options for {@linkcode connect}: `hostname` and `port` as in `Bun.connect`, plus the race settings. */
export interface BunConnectOptions extends RaceSettings {
  /** A DNS name or an IP literal. */
  readonly hostname: string;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
  /**
   * Resolves names. Default {@linkcode autoResolver}: the stub resolver behind a TTL cache when
   * /etc/nsswitch.conf says `hosts: files dns`, else {@linkcode systemResolver} (getaddrinfo).
   */
  readonly resolver?: Resolver;
}

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
  return adapterConnect(options, "hostname", nodeDialer, autoResolver);
}
