/**
 * `createConnection` in the shape of `net.createConnection`, for drivers
 * that take a stream factory (pg, mysql2, ioredis): it returns a socket at
 * once, still connecting, and runs the race behind it.
 *
 * The socket is a Duplex in front of the winning `net.Socket` (docs/clients.md
 * gives the measurements behind that choice): a `net.Socket` cannot adopt
 * another socket's connection portably, and dialling the winner's address
 * again would cost a second handshake.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import { Duplex } from "node:stream";
import { setImmediate, setTimeout } from "node:timers";
import { nextTick } from "node:process";
import type { Connected, RaceSettings } from "../connect/connect.ts";
import type { Clock, Resolver } from "../base/types.ts";
import { inSteps, systemClock } from "../race/clock.ts";
import { defaultHistory } from "../history/history.ts";
import { connectPrepared, prepareConnect } from "../adapters/shared/connect.ts";
import { discardSocket, netKind } from "../adapters/shared/net_dialer.ts";
import { racingTls, type TlsSettings } from "../adapters/node/tls.ts";
import { tlsRaceError } from "../adapters/shared/tls_race.ts";
import { knownOptions, type OptionShape, type SocketOptions } from "../adapters/shared/options.ts";
import { describe, requireObject } from "../base/checks.ts";

/**
 * Options for {@linkcode createConnection}: those of the Node adapter's `connect`, except that `timeout` is
 * `net.createConnection`'s (the socket's idle timeout) and the race's bound is `connectTimeout`; plus
 * `allowHalfOpen`. Keys it does not know are ignored, as `net.createConnection` ignores them.
 *
 * @example
 * ```ts
 * import { createConnection, type CreateConnectionOptions } from "@eyeballs/connect/node/clients";
 * const options: CreateConnectionOptions = { host: "cache.example", port: 6379, onConnected: (c) => console.log(c.address) };
 * const socket = createConnection(options);
 * ```
 */
export interface CreateConnectionOptions extends Omit<RaceSettings, "timeout">, SocketOptions {
  /** A DNS name or an IP literal, without a port. Default `"localhost"`, as in `net.createConnection`. */
  readonly host?: string;
  /** The TCP port, or a string of digits. */
  readonly port: number | string;
  /**
   * Resolves names. Default `autoResolver`: the stub resolver behind a TTL cache when /etc/nsswitch.conf says
   * `hosts: files dns`, else `systemResolver` (getaddrinfo). The same under Node, Bun and Deno's `node:net`.
   */
  readonly resolver?: Resolver;
  /** Told of the race's outcome (winner, timeline) when it is won. */
  readonly onConnected?: (connected: Omit<Connected<net.Socket>, "conn">) => void;
  /**
   * As in `net.createConnection`: `'timeout'` after this many ms of inactivity, also while connecting (the
   * socket's `setTimeout`); nothing is closed. Not the race's bound: that is `connectTimeout`.
   */
  readonly timeout?: number;
  /**
   * Bounds the whole race, resolution included, in ms: when it passes, the socket is destroyed with a
   * `ConnectError`. The adapters' `connect` calls this `timeout`; here `timeout` keeps net's meaning.
   */
  readonly connectTimeout?: number;
  /** As in `net.createConnection`: the peer's FIN leaves this side writable until `end()`. Default false. */
  readonly allowHalfOpen?: boolean;
}

type Write = [chunk: Uint8Array | string, encoding: BufferEncoding, callback: (error?: Error | null) => void];

/**
 * Internal (not a public option): TLS settings under which each attempt runs TLS to the handshake, so the socket
 * fronts the winning `tls.TLSSocket` ({@linkcode EyeballsTlsSocket}, the https Agent's).
 */
export const TLS_RACE: unique symbol = Symbol("eyeballs TLS race");

/**
 * A socket whose connection comes from an eyeballs race. It behaves as a
 * `net.Socket` does while connecting and after: `connecting`, `'connect'`,
 * `'ready'`, `'timeout'`, `setNoDelay`, `setKeepAlive`, `setTimeout`, `ref`,
 * `unref`, the address getters, Node's `'connectionAttempt'` and
 * `'connectionAttemptFailed'` per attempt; writes made while connecting are sent once
 * the race is won. `destroy()` aborts the race; `connect()` does nothing
 * (the race already runs), but calls its listener on connect.
 *
 * @example
 * ```ts
 * import { createConnection } from "@eyeballs/connect/node/clients";
 * const socket = createConnection({ host: "localhost", port: 6379 });
 * socket.connecting; // true
 * socket.on("connect", () => socket.end("PING\r\n"));
 * ```
 */
export class EyeballsSocket extends Duplex {
  /** True until the race is won (or the socket destroyed), as on `net.Socket`. */
  connecting = true;
  #winner?: net.Socket;
  #attempts = new Set<net.Socket>();
  #race = new AbortController();
  #waiting: Write[] = [];
  #finalPending?: (error?: Error | null) => void;
  #noDelay?: boolean;
  #keepAlive?: [boolean, number];
  #timeoutMs = 0;
  #connectTimer?: ReturnType<typeof setTimeout>;
  #refed = true;
  #dialled = true;
  /** The race's timers (schedule, resolution delay, timeout), so that `unref()` can release them as net's does. */
  #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: CreateConnectionOptions) {
    requireObject(options);
    // 'close' is emitted below, with net's `hadError` argument.
    super({ allowHalfOpen: options.allowHalfOpen === true, emitClose: false, autoDestroy: true });
    const tlsSettings = (options as { [TLS_RACE]?: TlsSettings })[TLS_RACE];
    const tcp = netKind("host", [], (attempt, { address, port, family }) => {
      this.#attempts.add(attempt);
      attempt.once("close", () => this.#attempts.delete(attempt));
      if (!this.#refed) attempt.unref();
      // Node's per-attempt events, as its own family race emits them (an abort after the race is no failure).
      attempt.once("error", (error) => {
        if (!this.#winner && !this.destroyed) this.emit("connectionAttemptFailed", address, port, family, error);
      });
      // On the next tick, as net's: a literal is dialled before createConnection returns.
      nextTick(() => this.destroyed || this.emit("connectionAttempt", address, port, family));
    });
    const kind = tlsSettings ? racingTls(tcp, tlsSettings) : tcp;
    const { onConnected, signal, timeout, connectTimeout, allowHalfOpen: _, ...picked } = pickOptions(
      options,
      kind.shape,
    );
    const rest: Record<string, unknown> = {
      host: "localhost",
      ...picked,
      ...(connectTimeout !== undefined && { timeout: connectTimeout }),
    };
    // A clock of our own (the real one, its timers unref'd with the socket) needs the default history said out
    // loud: the core uses no history by default under an injected clock.
    const timing = rest.clock === undefined ? { clock: this.#clock, history: rest.history ?? defaultHistory } : {};
    // Checked now, once, so that a bad option throws from createConnection as net.createConnection's do.
    const prepared = prepareConnect({ ...rest, ...timing }, kind);
    prepared.settings.signal = this.#race.signal;
    if (timeout !== undefined) {
      if (typeof timeout !== "number" || !(timeout >= 0)) {
        throw new RangeError(`timeout must be a number ≥ 0 (ms of inactivity), got ${describe(timeout)}`);
      }
      this.setTimeout(timeout);
    }
    const abortWith = signal as AbortSignal | undefined;
    if (abortWith?.aborted) {
      // As net: nothing is dialled, and the error comes on the next tick.
      this.#dialled = false; // so 'close' carries no hadError, as net's without a handle
      nextTick(() => this.destroy(abortError(abortWith.reason)));
      return;
    }
    // As net, an abort destroys the socket while connecting and after.
    const onAbort = () => this.destroy(abortError(abortWith!.reason));
    if (abortWith) {
      abortWith.addEventListener("abort", onAbort, { once: true });
      this.once("close", () => abortWith.removeEventListener("abort", onAbort));
    }
    const raced = connectPrepared(prepared);
    raced.then(({ conn, host: _host, extra: _extra, ...connected }) => {
      if (this.destroyed) return discardSocket(conn);
      this.#adopt(conn);
      try {
        (onConnected as CreateConnectionOptions["onConnected"])?.(connected);
      } catch {
        // An observer's failure is not the connection's.
      }
    }, (error) => {
      if (!this.destroyed) this.destroy(tlsSettings ? tlsRaceError(error) as Error : error);
    });
  }

  /** The winning connection, once the race is won. */
  protected get connection(): net.Socket | undefined {
    return this.#winner;
  }

  /** The real clock, whose timers follow `ref()` and `unref()`. */
  readonly #clock: Clock = {
    now: () => systemClock.now(),
    setTimer: inSteps((callback, ms) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        callback();
      }, ms);
      if (!this.#refed) timer.unref();
      this.#timers.add(timer);
      return () => {
        clearTimeout(timer);
        this.#timers.delete(timer);
      };
    }),
  };

  /** Takes over the winning socket: its data, its end, its errors; replays what was set while connecting. */
  #adopt(winner: net.Socket): void {
    this.#winner = winner;
    this.connecting = false;
    this.#clearConnectTimer();
    if (this.#noDelay !== undefined) winner.setNoDelay(this.#noDelay);
    if (this.#keepAlive) winner.setKeepAlive(...this.#keepAlive);
    if (this.#timeoutMs > 0) winner.setTimeout(this.#timeoutMs);
    winner.allowHalfOpen = true; // this socket's own allowHalfOpen decides when its side ends
    if (!this.#refed) winner.unref();
    winner.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) winner.pause();
    });
    winner.on("end", () => {
      this.push(null);
      this.read(0); // as net does at EOF: 'end' comes even when nobody reads
    });
    winner.on("timeout", () => this.emit("timeout"));
    winner.on("error", (error) => this.destroy(error));
    winner.on("close", () => {
      this.#finalPending?.();
      this.#finalPending = undefined;
      if (this.readableEnded || !winner.readableEnded) this.destroy();
      else this.once("end", () => this.destroy());
    });
    for (const [chunk, encoding, callback] of this.#waiting.splice(0)) winner.write(chunk, encoding, callback);
    this.emit("connect");
    if ((winner as tls.TLSSocket).encrypted) this.emit("secureConnect"); // the handshake is over: tls.connect's event
    this.emit("ready");
  }

  override _read(): void {
    this.#winner?.resume();
  }

  override _write(
    chunk: Uint8Array | string,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#winner) {
      this.#winner.write(chunk, encoding, callback);
    } else {
      this.#waiting.push([chunk, encoding, callback]);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#winner) {
      // As net: ended while connecting, it still connects, then sends its FIN.
      this.once("connect", () => this._final(callback));
      return;
    }
    if (this.#winner.destroyed) return callback();
    this.#finalPending = callback;
    this.#winner.end(() => {
      this.#finalPending = undefined;
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.connecting = false;
    this.#clearConnectTimer();
    this.#race.abort(error ?? new DOMException("the socket was destroyed", "AbortError"));
    for (const [, , cb] of this.#waiting.splice(0)) cb(error ?? new Error("the socket was destroyed"));
    const winner = this.#winner;
    if (winner) winner.destroy();
    callback(error);
    // As net's: after 'error' and after the callbacks of writes refused by now, once the connection is closed.
    const emitClose = () =>
      this.#dialled ? this.emit("close", error !== null && error !== undefined) : this.emit("close");
    if (winner && !winner.closed) winner.once("close", () => nextTick(emitClose));
    else setImmediate(emitClose);
  }

  /** Does nothing: the race started with createConnection. A listener is called on `'connect'`. */
  connect(...args: unknown[]): this {
    const listener = args.filter((a) => typeof a === "function").pop() as (() => void) | undefined;
    if (listener) {
      if (this.#winner) queueMicrotask(listener);
      else this.once("connect", listener);
    }
    return this;
  }

  /** As `net.Socket.setNoDelay`; remembered while connecting. */
  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    this.#winner?.setNoDelay(noDelay);
    return this;
  }

  /** As `net.Socket.setKeepAlive`; remembered while connecting. */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = [enable, initialDelay];
    this.#winner?.setKeepAlive(enable, initialDelay);
    return this;
  }

  /**
   * As `net.Socket.setTimeout`: `'timeout'` after `ms` of inactivity, also
   * while connecting (ioredis's `connectTimeout` relies on that); 0 disarms it.
   */
  setTimeout(ms: number, listener?: () => void): this {
    this.#timeoutMs = ms;
    if (listener) {
      if (ms === 0) this.off("timeout", listener);
      else this.once("timeout", listener);
    }
    if (this.#winner) {
      this.#winner.setTimeout(ms);
    } else if (!this.destroyed) {
      this.#clearConnectTimer();
      if (ms > 0) {
        this.#connectTimer = setTimeout(() => this.emit("timeout"), ms);
        if (!this.#refed) this.#connectTimer.unref();
      }
    }
    return this;
  }

  /** As `net.Socket.ref`. */
  ref(): this {
    this.#refed = true;
    this.#winner?.ref();
    for (const attempt of this.#attempts) attempt.ref();
    for (const timer of this.#timers) timer.ref();
    this.#connectTimer?.ref();
    return this;
  }

  /** As `net.Socket.unref`: neither the race's sockets nor the connection keep the process alive. */
  unref(): this {
    this.#refed = false;
    this.#winner?.unref();
    for (const attempt of this.#attempts) attempt.unref();
    for (const timer of this.#timers) timer.unref();
    this.#connectTimer?.unref();
    return this;
  }

  /** As `net.Socket.address()`: the local address, once connected. */
  address(): net.AddressInfo | Record<string, never> {
    return this.#winner?.address() ?? {};
  }

  /** `"opening"` while connecting, then the winner's. */
  get readyState(): string {
    if (this.connecting) return "opening";
    return this.#winner?.readyState ?? "closed";
  }

  /** True until connected, as on `net.Socket`. */
  get pending(): boolean {
    return !this.#winner || this.destroyed;
  }

  get remoteAddress(): string | undefined {
    return this.#winner?.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#winner?.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.#winner?.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.#winner?.localAddress;
  }
  get localPort(): number | undefined {
    return this.#winner?.localPort;
  }
  get bytesRead(): number {
    return this.#winner?.bytesRead ?? 0;
  }
  get bytesWritten(): number {
    return this.#winner?.bytesWritten ?? 0;
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }
}

/** Options net.createConnection honours and a race cannot: refused, since ignoring them would connect elsewhere. */
/**
 * The https Agent's socket: an {@linkcode EyeballsSocket} whose attempts each ran TLS, in front of the winning
 * `tls.TLSSocket`, with its TLS state (`authorized`, `alpnProtocol`, `getPeerCertificate()`...) read through.
 * Made by the Agent, not by users.
 *
 * @example
 * ```ts
 * import https from "node:https";
 * import { EyeballsHttpsAgent, EyeballsTlsSocket } from "@eyeballs/connect/node/clients";
 * https.get("https://example.com/", { agent: new EyeballsHttpsAgent() }, (res) => {
 *   const socket = res.socket as unknown as EyeballsTlsSocket;
 *   console.log(socket.authorized, socket.alpnProtocol, socket.remoteAddress);
 *   res.resume();
 * });
 * ```
 */
export class EyeballsTlsSocket extends EyeballsSocket {
  /** Always true, as on a `tls.TLSSocket`. */
  readonly encrypted = true;

  /** Races TCP and then TLS (`settings`) on each attempt; see {@linkcode createConnection} for `options`. */
  constructor(options: CreateConnectionOptions, settings: TlsSettings) {
    super({ ...options, [TLS_RACE]: settings } as CreateConnectionOptions);
  }

  #tls(): tls.TLSSocket | undefined {
    return this.connection as tls.TLSSocket | undefined;
  }
  /** Whether the peer's certificate was verified (false before the race is won). */
  get authorized(): boolean {
    return this.#tls()?.authorized ?? false;
  }
  /** Why the peer's certificate was not verified, if it was not. */
  get authorizationError(): Error | undefined {
    return this.#tls()?.authorizationError;
  }
  /** The ALPN protocol agreed, or false. */
  get alpnProtocol(): string | false | null {
    return this.#tls()?.alpnProtocol ?? null;
  }
  /** The peer's certificate, as `tls.TLSSocket.getPeerCertificate`. */
  getPeerCertificate(detailed?: boolean): tls.PeerCertificate | tls.DetailedPeerCertificate | object {
    return this.#tls()?.getPeerCertificate(detailed as true) ?? {};
  }
  /** The cipher agreed, as `tls.TLSSocket.getCipher`. */
  getCipher(): tls.CipherNameAndProtocol | undefined {
    return this.#tls()?.getCipher();
  }
  /** The TLS version agreed, as `tls.TLSSocket.getProtocol`. */
  getProtocol(): string | null {
    return this.#tls()?.getProtocol() ?? null;
  }
}

const REFUSED: Record<string, string> = {
  path: "Unix sockets have nothing to race; use net.connect",
  lookup: "pass a resolver ({ resolve(name, family, signal) }) instead",
  localPort: "attempts run in parallel and cannot share one local port",
};

/** The factory's own options, besides the adapter's. */
const FACTORY_KEYS = new Set(["onConnected", "connectTimeout", "allowHalfOpen"]);

/**
 * The options of a race, picked out of what a client passes, as net.createConnection picks its own: every other
 * key (http.Agent's `protocol`, `path: null`, `agent`, `servername`, …) is ignored, as net ignores it.
 */
function pickOptions(options: unknown, shape: OptionShape): Record<string, unknown> {
  requireObject(options);
  const known = knownOptions(shape);
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (key in REFUSED) {
      if (!value) continue; // net too takes `path: ""` and `localPort: 0` as unset
      throw new TypeError(`option ${describe(key)} cannot be honoured by a race: ${REFUSED[key]}`);
    }
    if (key === "family" && value === 0) continue; // net's "either family"
    if (known.has(key) || FACTORY_KEYS.has(key)) picked[key] = value;
  }
  return picked;
}

/** The error net.Socket is destroyed with on abort: an AbortError, code ABORT_ERR, the signal's reason as its cause. */
function abortError(reason: unknown): Error {
  return Object.assign(new Error("The operation was aborted", { cause: reason }), {
    name: "AbortError",
    code: "ABORT_ERR",
  });
}

/**
 * Starts a race to `host:port` and returns its socket at once, still
 * connecting, as `net.createConnection` does: `'connect'` (and `listener`)
 * when the race is won, `'error'` when it fails. Bad options throw here.
 * This is the one line that pg, mysql2 and ioredis take as their stream.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createConnection } from "@eyeballs/connect/node/clients";
 * const pool = new pg.Pool({
 *   host: "db.example", port: 5432, connectionTimeoutMillis: 5000,
 *   stream: () => createConnection({ host: "db.example", port: 5432 }),
 * });
 * ```
 */
export function createConnection(options: CreateConnectionOptions, listener?: () => void): EyeballsSocket {
  const socket = new EyeballsSocket(options);
  if (listener) socket.once("connect", listener);
  return socket;
}
