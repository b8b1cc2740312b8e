/**
 * eyeballs for Node: `connect` resolves both families in parallel and races
 * the addresses, returning a connected `net.Socket`.
 *
 * Unlike `net.connect({ autoSelectFamily: true })`, no attempt is killed
 * when its timer fires, so slow links still connect.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/node";
 * const socket = await connect({ host: "localhost", port: 8080, timeout: 5000 });
 * socket.end("hello\n");
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

/** Options for {@linkcode connect}: `host` and `port` as in `net.connect`, plus the race settings. */
export interface NodeConnectOptions extends RaceSettings {
  /** A DNS name or an IP literal. */
  readonly host: string;
  /** The TCP port, 1 to 65535. */
  readonly port: number;
  /**
   * Resolves names. Default {@linkcode autoResolver}: the stub resolver behind a TTL cache when
   * /etc/nsswitch.conf says `hosts: files dns`, else {@linkcode systemResolver} (getaddrinfo).
   */
  readonly resolver?: Resolver;
}

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
  return adapterConnect(options, "host", nodeDialer, autoResolver);
}
