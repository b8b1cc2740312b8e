/**
 * One socket for code that runs on Deno, Bun and Node: {@linkcode connect}
 * races the addresses the Happy Eyeballs way with the runtime's own adapter
 * and returns a socket shaped like the WinterTC Sockets API (`readable`,
 * `writable`, `opened`, `closed`, `close()`, `startTls()`), so a protocol
 * client written once against web streams runs on all three.
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/socket";
 * const socket = connect({ hostname: "localhost", port: 6379 }, { timeout: 5000 });
 * const writer = socket.writable.getWriter();
 * await writer.write(new TextEncoder().encode("PING\r\n"));
 * const { value } = await socket.readable.getReader().read();
 * console.log(new TextDecoder().decode(value)); // "+PONG\r\n"
 * await socket.close();
 * ```
 *
 * @module
 */

import { checkConnectOptions } from "../connect/validate.ts";
import { guardHandshake } from "../adapters/shared/handshake.ts";
import { checkRaceUntil } from "../adapters/shared/tls_race.ts";
import { builtinModule } from "../runtime/lazy_modules.ts";
import { parseIp } from "../addresses/ip.ts";
import type { Dialer, Resolver } from "../base/types.ts";
import { createSocket } from "./socket.ts";
import type { Transport } from "./transport.ts";
import type { SecureTransport, Socket, SocketAddress, SocketOptions } from "./types.ts";

export type { SecureTransport, Socket, SocketAddress, SocketInfo, SocketOptions, TlsOptions } from "./types.ts";

const MODES: readonly SecureTransport[] = ["off", "on", "starttls"];

/** Stand-ins that let the core check every option at once, before anything is dialled. */
const unusedDialer: Dialer<never> = { dial: () => Promise.reject(), close: () => {} };
const unusedResolver: Resolver = { resolve: () => Promise.resolve([]) };

/**
 * Parses `"host:port"` or `"[v6]:port"`; an object is taken as it is.
 *
 * @example
 * ```ts
 * import { parseAddress } from "@eyeballs/connect/socket";
 * parseAddress("[::1]:8080"); // { hostname: "::1", port: 8080 }
 * ```
 */
export function parseAddress(address: SocketAddress | string): SocketAddress {
  if (typeof address !== "string") return address;
  const match = /^(?:\[([^\]]*)\]|([^:\[\]]*)):(\d{1,5})$/.exec(address);
  if (!match) {
    throw new TypeError(`address must be "host:port" or "[ipv6]:port", got ${JSON.stringify(address)}`);
  }
  return { hostname: match[1] ?? match[2], port: Number(match[3]) };
}

/**
 * Connects with this runtime's adapter: Deno's `Deno.connect`, else `node:net` (Node, and Bun). With `tls`, each
 * attempt runs TLS to the handshake (the adapter's `connectTls`) and `secured` says so; else the caller runs it.
 */
async function dialTransport(
  address: SocketAddress,
  options: SocketOptions,
  signal: AbortSignal,
  tls: { hostname: string } | undefined,
): Promise<{ transport: Transport; secured: boolean }> {
  const {
    secureTransport: _mode,
    allowHalfOpen: _half,
    expectedServerHostname: _name,
    caCerts,
    raceUntil: _until,
    ...race
  } = options;
  const settings = { ...race, signal, port: address.port };
  if ("Deno" in globalThis) {
    const [deno, { tcpEndsOf }, { denoTransport }] = await Promise.all([
      import("../adapters/deno/mod.ts"),
      import("../adapters/deno/tls.ts"),
      import("./deno_transport.ts"),
    ]);
    const hostname = address.hostname;
    // Deno.startTls checks the certificate against the name it dials: another expected name is checked after TCP.
    if (tls?.hostname === hostname) {
      const secure = await deno.connectTls({ ...settings, hostname, ...(caCerts && { caCerts: [...caCerts] }) });
      return { transport: denoTransport(secure, tcpEndsOf(secure)), secured: true };
    }
    return { transport: denoTransport(await deno.connect({ ...settings, hostname })), secured: false };
  }
  const { nodeTransport } = await import("./node_transport.ts");
  const adapter = "Bun" in globalThis
    ? await import("../adapters/bun/mod.ts")
    : await import("../adapters/node/mod.ts");
  const where = "Bun" in globalThis ? { hostname: address.hostname } : { host: address.hostname };
  if (tls) {
    // The system's CAs and the caller's, as startTls trusts them; SNI and the certificate check use the expected name.
    const roots = caCerts && [...builtinModule<typeof import("node:tls")>("node:tls").rootCertificates, ...caCerts];
    const servername = parseIp(tls.hostname) ? undefined : tls.hostname;
    const secure = await adapter.connectTls(
      { ...settings, ...where, ...(roots && { ca: roots }), servername } as never,
    );
    return { transport: nodeTransport(secure), secured: true };
  }
  return { transport: nodeTransport(await adapter.connect({ ...settings, ...where } as never)), secured: false };
}

/**
 * Connects to `address` the Happy Eyeballs way and returns the socket at
 * once; `opened` tells when (and to which address) it connected. Bad input
 * throws a TypeError naming the field (a RangeError for eyeballs' own race
 * settings such as `timeout`), before anything is dialled; a failed connect rejects `opened` and `closed` with a
 * `ConnectError` naming every address.
 *
 * `options` takes the Sockets API's `secureTransport` and `allowHalfOpen`,
 * and every race setting of eyeballs (`timeout`, `signal`, `schedule`,
 * `family`...). With `secureTransport: "on"` the race runs to the first
 * finished TLS handshake (`raceUntil: "tcp"` runs TLS on the TCP winner
 * alone; so does Deno when `expectedServerHostname` is not the name dialled,
 * as `Deno.startTls` checks the name it dials).
 *
 * @example
 * ```ts
 * import { connect } from "@eyeballs/connect/socket";
 * const socket = connect("example.com:443", { secureTransport: "on" });
 * console.log((await socket.opened).remoteAddress);
 * await socket.close();
 * ```
 */
export function connect(address: SocketAddress | string, options: SocketOptions = {}): Socket {
  const target = parseAddress(address);
  if (typeof target !== "object" || target === null) {
    throw new TypeError(`address must be an object { hostname, port } or a string, got ${String(target)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  const mode = options.secureTransport ?? "off";
  if (!MODES.includes(mode)) {
    throw new TypeError(`secureTransport must be "off", "on" or "starttls", got ${JSON.stringify(mode)}`);
  }
  if (options.allowHalfOpen !== undefined && typeof options.allowHalfOpen !== "boolean") {
    throw new TypeError(`allowHalfOpen must be a boolean, got ${typeof options.allowHalfOpen}`);
  }
  if (
    options.caCerts !== undefined &&
    !(Array.isArray(options.caCerts) && options.caCerts.every((c) => typeof c === "string"))
  ) {
    throw new TypeError("caCerts must be an array of PEM strings");
  }
  if (options.expectedServerHostname !== undefined && typeof options.expectedServerHostname !== "string") {
    throw new TypeError(`expectedServerHostname must be a string, got ${typeof options.expectedServerHostname}`);
  }
  const raceUntil = checkRaceUntil(options.raceUntil);
  try {
    checkConnectOptions({
      ...options,
      hostname: target.hostname,
      port: target.port,
      dialer: unusedDialer,
      resolver: options.resolver ?? unusedResolver,
    });
  } catch (error) {
    // A bad address is a TypeError, as the proposal's IDL and workerd give it; eyeballs' own options keep their RangeError.
    if (error instanceof RangeError && /^(hostname|port)\b/.test(error.message)) throw new TypeError(error.message);
    throw error;
  }

  // close() before the connect finished cancels it, as does the caller's signal.
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const tlsHostname = options.expectedServerHostname ?? target.hostname;
  const startedAt = performance.now();
  const secureRace = mode === "on" && raceUntil === "tls" ? { hostname: tlsHostname } : undefined;
  const connecting = dialTransport(target, options, signal, secureRace).then(({ transport: plain, secured }) => {
    if (mode !== "on" || secured) return plain;
    // TLS on the TCP winner (raceUntil "tcp", or Deno with another expected name). The handshake is part of the
    // connect: the timeout covers it, and close() or the signal end it and the TCP connection under it.
    let cancelled = false;
    const handshake = plain.startTls(tlsHostname, options);
    handshake.then((secure) => cancelled && secure.close(), () => {});
    return guardHandshake(handshake, {
      timeout: options.timeout,
      elapsedMs: performance.now() - startedAt,
      signal,
      cancel: () => {
        cancelled = true;
        plain.close();
      },
    });
  });
  return createSocket(connecting, {
    secureTransport: mode,
    allowHalfOpen: options.allowHalfOpen ?? false,
    tlsHostname,
    upgraded: false,
    tls: { caCerts: options.caCerts, expectedServerHostname: options.expectedServerHostname },
    abortConnect: (reason) => controller.abort(reason),
  });
}
