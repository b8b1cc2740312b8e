/**
 * What happens after the race on a TLS connect: the handshake runs on the
 * winner under what is left of `timeout` and under the caller's `signal`, and
 * its failure names the host and the address the race connected to.
 *
 * @module
 */

import { describe } from "../../base/checks.ts";

/**
 * A TLS handshake that failed on the connection the race won. `cause` is the
 * runtime's own error (its `code`, such as `ERR_TLS_CERT_ALTNAME_INVALID` or
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, is copied here).
 *
 * @example
 * ```ts
 * import { connectTls, TlsHandshakeError } from "@eyeballs/connect/node";
 * try {
 *   await connectTls({ host: "self-signed.example", port: 443 });
 * } catch (error) {
 *   if (error instanceof TlsHandshakeError) console.log(error.host, error.address, error.code);
 * }
 * ```
 */
export class TlsHandshakeError extends Error {
  /** The host as the caller named it. */
  readonly host: string;
  /** The address the race connected to. */
  readonly address: string;
  /** The port. */
  readonly port: number;
  /** The runtime's error code, when it gave one. */
  readonly code?: string;

  constructor(host: string, address: string, port: number, cause: unknown) {
    const where = host === address ? `${address} port ${port}` : `${host} (${address} port ${port})`;
    const reason = cause instanceof Error ? cause.message : describe(cause);
    super(`TLS with ${where} failed: ${reason}`, { cause });
    this.name = "TlsHandshakeError";
    this.host = host;
    this.address = address;
    this.port = port;
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === "string") this.code = code;
  }
}

/** The limits a handshake runs under. */
export interface HandshakeLimits {
  /** The connect's `timeout`, if any: the handshake gets what the race left of it. */
  readonly timeout?: number;
  /** Milliseconds the race took. */
  readonly elapsedMs: number;
  /** The caller's signal. */
  readonly signal?: AbortSignal;
  /** Stops the handshake and releases the connection. */
  readonly cancel: () => void;
}

/**
 * Waits for `handshake`, cancelling it when the time left runs out or the
 * signal fires. Rejects with a TimeoutError naming the whole timeout, or
 * with the signal's reason.
 */
export function guardHandshake<T>(handshake: Promise<T>, limits: HandshakeLimits): Promise<T> {
  const { timeout, elapsedMs, signal, cancel } = limits;
  if (timeout === undefined && signal === undefined) return handshake;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = (reason: unknown) => {
      cleanup();
      cancel();
      reject(reason);
    };
    const onAbort = () => stop(signal!.reason);
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        const error = Object.assign(new Error(`timed out after ${timeout} ms (during the TLS handshake)`), {
          name: "TimeoutError",
        });
        stop(error);
      }, Math.max(0, timeout - elapsedMs));
    }
    handshake.then((value) => {
      cleanup();
      resolve(value);
    }, (error) => {
      cleanup();
      reject(error);
    });
  });
}
