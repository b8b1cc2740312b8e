/**
 * The Sockets API's {@linkcode Socket} over any {@linkcode Transport}: web
 * streams with backpressure (nothing is read from the network until the
 * reader asks; a write resolves when the runtime took the bytes), the
 * half-close rules, and the TLS upgrade. Where the WinterTC proposal is
 * silent, it does what Cloudflare workerd does (docs/socket.md lists each
 * choice).
 *
 * @module
 */

import type { SecureTransport, Socket, SocketInfo, TlsOptions } from "./types.ts";
import type { Transport } from "./transport.ts";
import { abortSignalClock, systemClock } from "../race/clock.ts";

/**
 * How a socket was opened, and where to upgrade it to.
 */
export interface SocketSetup {
  readonly secureTransport: SecureTransport;
  readonly allowHalfOpen: boolean;
  /** The name TLS checks by default: the hostname connected to, or `expectedServerHostname`. */
  readonly tlsHostname: string;
  readonly upgraded: boolean;
  /** The TLS settings given to `connect()`: `startTls()` uses them unless it is given its own. */
  readonly tls: TlsOptions;
  /** Cancels a connect still in progress (close() before opened). */
  readonly abortConnect: (reason: unknown) => void;
}

/** Marks a promise as handled: an unobserved `opened` or `closed` must not crash the process. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

const encoder = new TextEncoder();

/**
 * The bytes of a chunk written to `writable`: a string (as UTF-8), an
 * ArrayBuffer, or any ArrayBufferView, as workerd takes them; null for
 * anything else.
 */
function bytesOf(chunk: unknown): Uint8Array | null {
  if (typeof chunk === "string") return encoder.encode(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (typeof SharedArrayBuffer === "function" && chunk instanceof SharedArrayBuffer) return new Uint8Array(chunk);
  return null;
}

const refusedChunk = (chunk: unknown) =>
  new TypeError(
    `writable takes a string, an ArrayBuffer or an ArrayBufferView, got ${chunk === null ? "null" : typeof chunk}`,
  );

/** Chunks the socket's writable takes. */
type Chunk = string | ArrayBuffer | ArrayBufferView;

/**
 * The writer of a socket's writable: a write of a value that is no bytes
 * is refused without erroring the stream (as in workerd), and the socket
 * can close the stream properly while the writer holds its lock.
 */
class SocketWriter extends WritableStreamDefaultWriter<Chunk> {
  readonly #onRelease: (writer: SocketWriter) => void;
  readonly #isClosed: () => boolean;
  constructor(stream: WritableStream<Chunk>, onRelease: (writer: SocketWriter) => void, isClosed: () => boolean) {
    super(stream);
    this.#onRelease = onRelease;
    this.#isClosed = isClosed;
  }
  override write(chunk: Chunk): Promise<void> {
    if (bytesOf(chunk) === null) return Promise.reject(refusedChunk(chunk));
    // Node 20's writer trips an internal assertion on a write to a closed stream instead of rejecting.
    if (this.#isClosed()) return Promise.reject(new TypeError("the writable is closed"));
    return super.write(chunk);
  }
  override releaseLock(): void {
    this.#onRelease(this);
    super.releaseLock();
  }
}

/** A timer task's clock: on Deno its own web timers, as the Deno adapter's. */
const timers = (globalThis as { Deno?: unknown }).Deno === undefined ? systemClock : abortSignalClock;

/** Resolves after the tasks queued now have run. */
const nextTask = () => new Promise<void>((resolve) => timers.setTimer(resolve, 0));

/**
 * A {@linkcode Socket} over the transport `connecting` resolves to.
 */
export function createSocket(connecting: Promise<Transport>, setup: SocketSetup): Socket {
  quiet(connecting);
  let transport: Transport | undefined;
  /** `closed` settled: nothing more happens on this socket. */
  let finished = false;
  /** Handed to startTls: the transport belongs to the new socket. */
  let released = false;
  /** The peer's FIN (or RST) was seen. */
  let readEnded = false;
  /** Our FIN was sent (or the writable was aborted or errored). */
  let writeEnded = false;
  /** The writable's sink has been told to close, or was errored: no more closing from our side. */
  let writableDone = false;
  /** The readable was closed, cancelled or errored. */
  let readableDone = false;
  /** The writable reached its closed state (not errored). */
  let writableClosed = false;
  /** The sink's close() only flushes (no FIN): the socket is being upgraded. */
  let flushOnly = false;
  /** A transport read in progress: reads are one at a time. */
  let reading: Promise<Uint8Array | null> | undefined;
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
  let writer: SocketWriter | undefined;

  /** `closed` settles; the connection is released unless it went to startTls. */
  const settle = (error?: unknown) => {
    if (finished) return;
    finished = true;
    if (!released) transport?.close();
    if (error === undefined) resolveClosed();
    else rejectClosed(error);
  };
  const endReadable = () => {
    if (readableDone) return;
    readableDone = true;
    try {
      readController.close();
    } catch { /* already closed */ }
  };
  const errorReadable = (error: unknown) => {
    if (readableDone) return;
    readableDone = true;
    try {
      readController.error(error);
    } catch { /* already closed */ }
  };
  const errorWritable = (error: unknown) => {
    if (writableDone) return;
    writableDone = true;
    writeEnded = true;
    try {
      writeController.error(error);
    } catch { /* already closed */ }
  };
  /**
   * Closes the writable from our side, after the writes queued so far (as a
   * writer's close() would). Only a pipe's lock leaves no way but an error.
   */
  const closeWritable = async (pipedReason: () => unknown): Promise<void> => {
    if (writableDone) return;
    if (writer) {
      const w = writer;
      // Already closing (the caller's own close()): wait for that one instead.
      return await WritableStreamDefaultWriter.prototype.close.call(w).catch(() => w.closed).catch(() => {});
    }
    if (!writable.locked) return await WritableStream.prototype.close.call(writable).catch(() => {});
    errorWritable(pipedReason());
  };
  /** Both directions done: the connection is released and `closed` resolves. */
  const maybeFinish = () => {
    if (readEnded && writeEnded && !released) settle();
  };
  /** The connection broke (RST, a failed write): both streams error, `closed` resolves as the proposal says. */
  const broken = (error: unknown) => {
    if (finished || released) return;
    errorReadable(error);
    errorWritable(error);
    readEnded = writeEnded = true;
    settle();
  };
  /** The peer's FIN: with allowHalfOpen false, our side closes too (after the queued writes). */
  const peerEnded = async () => {
    readEnded = true;
    if (!setup.allowHalfOpen) {
      await closeWritable(() => new TypeError("the peer closed the connection (allowHalfOpen is false)"));
      writeEnded = true;
    }
    maybeFinish();
  };
  /** One read from the transport; the readable's pull and the drain after a cancel share it. */
  const readOnce = (t: Transport) => {
    reading ??= t.read().finally(() => (reading = undefined));
    return reading;
  };
  /** After the readable was cancelled: reads and drops until the peer's FIN, so that `closed` can follow it. */
  const drain = async (t: Transport) => {
    try {
      while (!finished && !released) {
        if ((await readOnce(t)) === null) return await peerEnded();
      }
    } catch (error) {
      broken(error);
    }
  };

  /** Cancelled by the reader: once our side is closed too, the peer's FIN is still awaited (workerd resolves `closed` on it). */
  let readCancelled = false;
  let draining = false;
  const startDrain = () => {
    if (draining || readEnded || finished || released) return;
    draining = true;
    connecting.then((t) => drain(t), () => {});
  };

  connecting.then((t) => {
    transport = t;
    if (finished && !released) t.close(); // closed before it opened
  }, (error) => {
    // The proposal: `opened` and `closed` reject, the readable is cancelled and the writable aborted.
    endReadable();
    errorWritable(error);
    settle(error);
  });

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readController = controller;
    },
    async pull(controller) {
      let t: Transport;
      try {
        t = await connecting;
      } catch {
        return; // the failed connect already cancelled the readable
      }
      try {
        const chunk = await readOnce(t);
        if (readableDone) return;
        if (chunk !== null) return controller.enqueue(chunk);
        endReadable();
        await peerEnded();
      } catch (error) {
        if (!readableDone) broken(error);
      }
    },
    cancel() {
      readableDone = true;
      readCancelled = true;
      if (writeEnded) startDrain();
    },
  }, { highWaterMark: 0 });

  class SocketWritable extends WritableStream<Chunk> {
    override getWriter(): WritableStreamDefaultWriter<Chunk> {
      const created = new SocketWriter(this, (w) => {
        if (writer === w) writer = undefined;
      }, () => writableClosed);
      writer = created;
      return created;
    }
  }
  const writable = new SocketWritable({
    start(controller) {
      writeController = controller;
    },
    async write(chunk) {
      const bytes = bytesOf(chunk);
      if (bytes === null) throw refusedChunk(chunk); // only a pipe or a foreign writer gets here
      const t = await connecting;
      if (bytes.byteLength === 0) return;
      try {
        await t.write(bytes);
      } catch (error) {
        broken(error);
        throw error;
      }
    },
    async close() {
      writableDone = true;
      if (flushOnly) return void (writableClosed = true); // startTls: flushed, no FIN
      const t = await connecting;
      await t.closeWrite();
      writableClosed = true;
      writeEnded = true;
      if (readCancelled) startDrain();
      maybeFinish();
    },
    abort() {
      writableDone = true;
      writeEnded = true;
      if (!released) transport?.closeWrite().catch(() => {});
      if (readCancelled) startDrain();
      maybeFinish();
    },
  }, { highWaterMark: 1 });

  const opened: Promise<SocketInfo> = quiet(connecting.then((t) => t.info()));

  const socket: Socket = {
    readable,
    writable,
    opened,
    closed,
    upgraded: setup.upgraded,
    secureTransport: setup.secureTransport,
    close(reason?: unknown) {
      if (finished) return closed;
      setup.abortConnect(reason ?? new Error("the socket was closed"));
      // The proposal: the readable is cancelled and the writable aborted, with the reason.
      endReadable();
      errorWritable(reason ?? new TypeError("the socket was closed"));
      settle();
      return closed;
    },
    startTls(options?: TlsOptions) {
      if (setup.secureTransport !== "starttls" || setup.upgraded) {
        throw new TypeError(`startTls needs secureTransport "starttls", this socket has "${setup.secureTransport}"`);
      }
      if (released || finished) throw new TypeError("startTls: this socket is already closed or upgraded");
      if (options !== undefined && (typeof options !== "object" || options === null)) {
        throw new TypeError(`startTls options must be an object, got ${options === null ? "null" : typeof options}`);
      }
      released = true;
      const tls: TlsOptions = { ...setup.tls, ...options };
      const hostname = tls.expectedServerHostname ?? setup.tlsHostname;
      const upgrading = (async () => {
        const t = await connecting;
        // Writes queued before startTls go out in plain text first (workerd flushes too), then the ClientHello.
        flushOnly = true;
        await closeWritable(() => new TypeError("the socket was upgraded to TLS"));
        endReadable();
        await nextTask(); // a read that just returned lets go of the connection
        settle();
        const plainInfo = t.info();
        const secure = await t.startTls(hostname, tls);
        // Same connection, same ends: where the runtime does not tell them for TLS, the plain socket did.
        const info = (): SocketInfo => {
          const now = secure.info();
          return {
            remoteAddress: now.remoteAddress ?? plainInfo.remoteAddress,
            localAddress: now.localAddress ?? plainInfo.localAddress,
          };
        };
        return { ...secure, info };
      })();
      upgrading.catch(() => {
        endReadable();
        errorWritable(new TypeError("startTls failed"));
        settle();
      });
      return createSocket(upgrading, { ...setup, upgraded: true, tlsHostname: hostname, tls });
    },
  };
  return socket;
}
