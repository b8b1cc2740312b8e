/**
 * A {@linkcode Dialer} over `node:net`. Used by the Node adapter, and by the
 * Bun adapter because `Bun.connect` cannot be cancelled.
 *
 * @module
 */

import net from "node:net";
import type { Dialer, Target } from "../../core/types.ts";

/**
 * Dials one address with `net.connect` (Node's own Happy Eyeballs is off:
 * the target is already one IP). An abort destroys the socket, releasing
 * its file descriptor at once. Each attempt's listeners are removed when it
 * settles.
 *
 * @example
 * ```ts
 * import { nodeDialer } from "@eyeballs/connect/node";
 * const controller = new AbortController();
 * const socket = await nodeDialer.dial({ address: "127.0.0.1", family: 4, port: 8080 }, controller.signal);
 * nodeDialer.close(socket);
 * ```
 */
export const nodeDialer: Dialer<net.Socket> = {
  dial(target: Target, signal: AbortSignal): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const socket = net.connect({
        host: target.address,
        port: target.port,
        family: target.family,
        autoSelectFamily: false,
      });
      const settle = () => {
        socket.off("connect", onConnect);
        socket.off("error", onError);
        signal.removeEventListener("abort", onAbort);
      };
      const onConnect = () => {
        settle();
        resolve(socket);
      };
      const onError = (error: Error) => {
        settle();
        discard(socket);
        reject(error);
      };
      const onAbort = () => {
        settle();
        discard(socket);
        reject(signal.reason);
      };
      socket.on("connect", onConnect);
      socket.on("error", onError);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  },
  close(socket: net.Socket): void {
    discard(socket);
  },
};

/**
 * Destroys a socket nobody will use. An error may still be on its way (Deno's
 * node:net emits a connect failure after destroy()), so it gets a listener that
 * ignores it rather than crashing the process as an unhandled 'error'.
 */
function discard(socket: net.Socket): void {
  socket.on("error", () => {});
  socket.destroy();
}
