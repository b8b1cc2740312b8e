/**
 * A {@linkcode Dialer} over `node:net`. Used by the Node adapter, and by the
 * Bun adapter because `Bun.connect` cannot be cancelled.
 *
 * @module
 */

import net from "node:net";
import type { Dialer, Target } from "../../base/types.ts";
import { NEVER_ABORTED } from "../../race/race.ts";
import type { AdapterKind } from "./connect.ts";
import { autoResolver } from "../../dns/auto.ts";
import type { OptionShape, SocketOptions } from "./options.ts";

/**
 * Options of {@linkcode netDialer}.
 *
 * @example
 * ```ts
 * import { netDialer, type NetDialerOptions } from "@eyeballs/connect/node";
 * const options: NetDialerOptions = { localAddress: "192.0.2.7" };
 * const dialer = netDialer(options);
 * ```
 */
export interface NetDialerOptions extends Pick<SocketOptions, "localAddress"> {
  /** Told of each attempt's socket and its target as it is created (to ref or unref it, to report it). */
  readonly onSocket?: (socket: net.Socket, target: Target) => void;
}

/**
 * A dialer for one address at a time with `net.connect` (Node's own Happy
 * Eyeballs is off: the target is already one IP), from `localAddress` when
 * given. An abort destroys the socket, releasing its file descriptor at
 * once. Each attempt's listeners are removed when it settles.
 *
 * @example
 * ```ts
 * import { netDialer } from "@eyeballs/connect/node";
 * const dialer = netDialer({ localAddress: "127.0.0.1" });
 * const socket = await dialer.dial({ address: "127.0.0.1", family: 4, port: 8080 }, new AbortController().signal);
 * dialer.close(socket);
 * ```
 */
export function netDialer(options: NetDialerOptions = {}): Dialer<net.Socket> {
  const { localAddress, onSocket } = options;
  return {
    dial(target: Target, signal: AbortSignal): Promise<net.Socket> {
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const connectOptions: net.TcpNetConnectOpts = {
          host: target.address,
          port: target.port,
          family: target.family,
          autoSelectFamily: false,
        };
        if (localAddress !== undefined) connectOptions.localAddress = localAddress;
        const socket = net.connect(connectOptions);
        onSocket?.(socket, target);
        // Each listener removes the others when the attempt settles. The abort listener exists only where an abort
        // can come (not for NEVER_ABORTED): every closure is kept alive while the connect is pending.
        let onAbort: (() => void) | undefined;
        const onConnect = () => {
          socket.off("error", onError);
          if (onAbort) signal.removeEventListener("abort", onAbort);
          resolve(socket);
        };
        const onError = (error: Error) => {
          socket.off("connect", onConnect);
          if (onAbort) signal.removeEventListener("abort", onAbort);
          discardSocket(socket);
          reject(error);
        };
        socket.on("connect", onConnect);
        socket.on("error", onError);
        if (signal !== NEVER_ABORTED) {
          onAbort = () => {
            socket.off("connect", onConnect);
            socket.off("error", onError);
            discardSocket(socket);
            reject(signal.reason);
          };
          signal.addEventListener("abort", onAbort, { once: true });
        }
      });
    },
    close: discardSocket,
  };
}

/**
 * The {@linkcode netDialer} with no options.
 *
 * @example
 * ```ts
 * import { nodeDialer } from "@eyeballs/connect/node";
 * const controller = new AbortController();
 * const socket = await nodeDialer.dial({ address: "127.0.0.1", family: 4, port: 8080 }, controller.signal);
 * nodeDialer.close(socket);
 * ```
 */
export const nodeDialer: Dialer<net.Socket> = netDialer();

/**
 * Destroys a socket nobody will use. An error may still be on its way (Deno's
 * node:net emits a connect failure after destroy()), so it gets a listener that
 * ignores it rather than crashing the process as an unhandled 'error'.
 */
export function discardSocket(socket: net.Socket): void {
  socket.on("error", () => {});
  socket.destroy();
}

/** Applies `noDelay` and `keepAlive` to a connected socket, as `net.connect` would. */
function tuneSocket(socket: net.Socket, options: SocketOptions): void {
  if (options.noDelay !== undefined) socket.setNoDelay(options.noDelay);
  if (options.keepAlive !== undefined) socket.setKeepAlive(options.keepAlive, options.keepAliveInitialDelay ?? 0);
}

/** The `node:net` options a race can honour. */
const NET_SOCKET_OPTIONS = ["localAddress", "noDelay", "keepAlive", "keepAliveInitialDelay"] as const;

/** The node:net connection kind, with the host field named as the caller's runtime names it. */
export function netKind(
  hostField: OptionShape["hostField"],
  extra: readonly string[] = [],
  onSocket?: (socket: net.Socket, target: Target) => void,
): AdapterKind<net.Socket> {
  return {
    shape: { hostField, socket: NET_SOCKET_OPTIONS, extra },
    resolver: autoResolver, // getaddrinfo's thread pool can stall lookups under Node and Bun (docs/performance.md)
    dialer: ({ socket }) =>
      socket.localAddress === undefined && !onSocket
        ? nodeDialer
        : netDialer({ localAddress: socket.localAddress, onSocket }),
    tune: tuneSocket,
    warmUp: onNode ? warmUpIsIp : undefined,
  };
}

let warm = false;
/**
 * Node only: there the first lookup is on the wire before the event loop turns. Bun reads the resolver's files
 * asynchronously, so an immediate there ran before the first query left (a CPU profile showed it), and its first
 * `net.isIP` costs 1.5–3.6 ms, not 8–10.
 */
const onNode = (globalThis as { Deno?: unknown }).Deno === undefined &&
  (globalThis as { Bun?: unknown }).Bun === undefined;

/**
 * `net.connect` runs `net.isIP` on its host, and Node compiles the regular expression inside at its first two calls
 * (about 8 ms, then 2; docs/performance.md): once per process, that is done as soon as the event loop is idle (the
 * first lookup sent), instead of between the first answer and the first SYN.
 */
function warmUpIsIp(): void {
  if (warm) return;
  warm = true;
  setImmediate(() => {
    net.isIP("::1");
    net.isIP("::1");
  });
}
