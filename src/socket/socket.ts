/**
 * The Sockets API's {@linkcode Socket} over any {@linkcode Transport}: web
 * streams with backpressure (nothing is read from the network until the
 * reader asks; a write resolves when the runtime took the bytes), the
 * half-close rules, and the TLS upgrade.
 *
 * @module
 */

import type { SecureTransport, Socket, SocketInfo, TlsOptions } from "./types.ts";
import type { Transport } from "./transport.ts";

/**
 * How a socket was opened, and where to upgrade it to.
 */
export interface SocketSetup {
  readonly secureTransport: SecureTransport;
  readonly allowHalfOpen: boolean;
  /** The name TLS checks by default: the hostname connected to. */
  readonly tlsHostname: string;
  readonly upgraded: boolean;
  /** Cancels a connect still in progress (close() before opened). */
  readonly abortConnect: (reason: unknown) => void;
}

/** Marks a promise as handled: an unobserved `opened` or `closed` must not crash the process. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/**
 * A {@linkcode Socket} over the transport `connecting` resolves to.
 */
export function createSocket(connecting: Promise<Transport>, setup: SocketSetup): Socket {
  quiet(connecting);
  let transport: Transport | undefined;
  let readDone = false;
  let writeDone = false;
  let finished = false;
  /** Set once this socket was handed to startTls: its transport belongs to the new socket. */
  let released = false;
  let resolveClosed!: () => void;
  let rejectClosed!: (error: unknown) => void;
  const closed = quiet(
    new Promise<void>((resolve, reject) => {
      resolveClosed = resolve;
      rejectClosed = reject;
    }),
  );
  let readController!: ReadableStreamDefaultController<Uint8Array>;
  let writeController!: WritableStreamDefaultController;

  const settle = (error?: unknown) => {
    if (finished) return;
    finished = true;
    if (!released) transport?.close();
    if (error === undefined) resolveClosed();
    else rejectClosed(error);
  };
  const fail = (error: unknown) => {
    try {
      readController.error(error);
    } catch { /* already closed */ }
    try {
      writeController.error(error);
    } catch { /* already closed */ }
    settle(error);
  };
  /** Both directions done: the connection is released and `closed` resolves. */
  const maybeFinish = () => {
    if (readDone && writeDone) settle();
  };

  connecting.then((t) => {
    transport = t;
    if (finished) t.close(); // closed before it opened
  }, (error) => fail(error));

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readController = controller;
    },
    async pull(controller) {
      try {
        const chunk = await (await connecting).read();
        if (finished) return;
        if (chunk !== null) return controller.enqueue(chunk);
        controller.close();
        readDone = true;
        if (!setup.allowHalfOpen && !writeDone) {
          // The peer is done: so is our side, as the Sockets API says.
          writeDone = true;
          try {
            writeController.error(new TypeError("the peer closed the connection (allowHalfOpen is false)"));
          } catch { /* already closed */ }
          await transport!.closeWrite().catch(() => {});
        }
        maybeFinish();
      } catch (error) {
        if (!finished) fail(error);
      }
    },
    cancel() {
      readDone = true;
      maybeFinish();
    },
  }, { highWaterMark: 0 });

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writeController = controller;
    },
    async write(chunk) {
      if (!ArrayBuffer.isView(chunk)) {
        throw new TypeError(`writable takes Uint8Array chunks, got ${typeof chunk}`);
      }
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      try {
        await (await connecting).write(bytes);
      } catch (error) {
        fail(error);
        throw error;
      }
    },
    async close() {
      // FIN; reading goes on.
      await (await connecting).closeWrite();
      writeDone = true;
      maybeFinish();
    },
    async abort() {
      writeDone = true;
      await transport?.closeWrite().catch(() => {});
      maybeFinish();
    },
  }, { highWaterMark: 1 });

  /** Ends both streams and resolves `closed`; the transport is closed unless released to TLS. */
  const shutdown = () => {
    if (finished) return;
    try {
      readController.close();
    } catch { /* already closed */ }
    try {
      writeController.error(new TypeError("the socket is closed"));
    } catch { /* already closed */ }
    settle();
  };

  const opened: Promise<SocketInfo> = quiet(connecting.then((t) => t.info()));

  const socket: Socket = {
    readable,
    writable,
    opened,
    closed,
    upgraded: setup.upgraded,
    secureTransport: setup.secureTransport,
    close(reason?: unknown) {
      if (!finished) setup.abortConnect(reason ?? new Error("the socket was closed"));
      shutdown();
      return closed;
    },
    startTls(options: TlsOptions = {}) {
      if (setup.secureTransport !== "starttls" || setup.upgraded) {
        throw new TypeError(`startTls needs secureTransport "starttls", this socket has "${setup.secureTransport}"`);
      }
      if (released || finished) throw new TypeError("startTls: this socket is already closed or upgraded");
      released = true;
      const hostname = options.expectedServerHostname ?? setup.tlsHostname;
      const upgrading = connecting.then((t) => t.startTls(hostname, options));
      shutdown();
      return createSocket(upgrading, { ...setup, upgraded: true, tlsHostname: hostname });
    },
  };
  return socket;
}
