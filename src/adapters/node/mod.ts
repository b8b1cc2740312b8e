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

export { connect, connectWithTimeline, type NodeConnectOptions } from "./connect.ts";
export { netDialer, type NetDialerOptions, nodeDialer } from "../shared/net_dialer.ts";
export { autoResolver } from "../../dns/auto.ts";
export { systemResolver } from "../../dns/system.ts";
export { createStubResolver, stubResolver } from "../../dns/stub.ts";
export type { StubResolver, StubResolverOptions } from "../../dns/stub.ts";
export { FileHistory, type FileHistoryOptions } from "../shared/file_history.ts";
export type { SocketOptions } from "../shared/options.ts";
export { TRACE_CHANNELS } from "../shared/tracing.ts";
export { connectTls, type NodeTlsOptions, TlsHandshakeError, type TlsSettings } from "./tls.ts";
