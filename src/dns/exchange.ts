/**
 * One DNS question to one server: over UDP from a fresh socket (a random
 * source port from the kernel, a random ID) with EDNS0 offering 1232 bytes
 * (again without EDNS0 if the server answers FORMERR), and again over TCP
 * when the answer comes back truncated. Uses `node:dgram` (on Bun its own
 * `Bun.udpSocket`) and `node:net`, and no thread pool.
 *
 * @module
 */

import {
  type DnsAnswer,
  type DnsQuestion,
  type DnsServiceAnswer,
  encodeQuery,
  parseResponse,
  parseServiceResponse,
  RCODE,
} from "./message.ts";
import type { Family } from "../base/types.ts";
import { nodeDgram, nodeNet, randomFill } from "../runtime/lazy_modules.ts";

/** The DNS port. */
const PORT = 53;
/** The UDP payload size offered with EDNS0: DNS Flag Day 2020's, which avoids IP fragmentation. */
const EDNS_PAYLOAD = 1232;

/**
 * Asks `server` for the `family` records of `name` and returns its answer,
 * retried over TCP when truncated. Rejects with an error whose `code` is
 * `ETIMEOUT` after `timeoutMs`, or with the signal's reason on abort; either
 * way its socket is closed. Datagrams from another address or port, with
 * another ID or another question, are ignored.
 */
export async function exchange(
  server: string,
  name: string,
  family: Family,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<DnsAnswer> {
  const question: DnsQuestion = { id: randomId(), name, family };
  const open = bun?.udpSocket ? openBunUdp : openNodeUdp(await nodeDgram());
  let udp = await overUdp(open, server, question, EDNS_PAYLOAD, timeoutMs, signal);
  // RFC 6891 §7: a server that does not know EDNS answers FORMERR; ask it again without.
  if (udp.rcode === RCODE.formErr) {
    udp = await overUdp(open, server, { ...question, id: randomId() }, 0, timeoutMs, signal);
  }
  if (!udp.truncated) return udp;
  return overTcp(await nodeNet(), server, { ...question, id: randomId() }, timeoutMs, signal);
}

/**
 * {@linkcode exchange} for an SVCB (64) or HTTPS (65) question: the same
 * UDP, then TCP when truncated, with the answer read as service records.
 */
export async function exchangeService(
  server: string,
  name: string,
  type: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<DnsServiceAnswer> {
  const question: DnsQuestion = { id: randomId(), name, family: 4, type };
  const open = bun?.udpSocket ? openBunUdp : openNodeUdp(await nodeDgram());
  const udp = await overUdp(open, server, question, EDNS_PAYLOAD, timeoutMs, signal, parseServiceResponse);
  if (!udp.truncated) return udp;
  return overTcp(await nodeNet(), server, { ...question, id: randomId() }, timeoutMs, signal, parseServiceResponse);
}

/** A 16-bit ID from the CSPRNG: an off-path attacker must guess it (and the port). */
function randomId(): number {
  return randomFill(new Uint16Array(1))[0];
}

/**
 * Runs `start` with a deadline (an error with code `ETIMEOUT` naming `what`) and the signal; the cleanup `start`
 * returns runs once, however it ends.
 */
export function bounded<T>(
  timeoutMs: number,
  signal: AbortSignal,
  what: string,
  start: (settle: (error: unknown, value?: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let cleanup = () => {};
    let done = false;
    const settle = (error: unknown, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      cleanup();
      if (error === undefined) resolve(value as T);
      else reject(error);
    };
    const onAbort = () => settle(signal.reason);
    const timer = setTimeout(() => {
      settle(Object.assign(new Error(`DNS ${what} timed out after ${timeoutMs} ms`), { code: "ETIMEOUT" }));
    }, timeoutMs);
    signal.addEventListener("abort", onAbort, { once: true });
    cleanup = start(settle);
    if (done) cleanup();
  });
}

/** A UDP socket opened for one question: one `send`, then `close` (once, however the question ends). */
interface UdpSocket {
  send(query: Uint8Array): void;
  close(): void;
}

/** Where a socket reports what it receives and what goes wrong. */
interface UdpHandlers {
  message(message: Uint8Array, from: { address: string; port: number }): void;
  error(error: unknown): void;
}

type OpenUdp = (server: string, handlers: UdpHandlers) => UdpSocket;

function openNodeUdp(dgram: typeof import("node:dgram")): OpenUdp {
  return (server, handlers) => {
    const socket = dgram.createSocket(server.includes(":") ? "udp6" : "udp4");
    socket.on("error", handlers.error);
    socket.on("message", handlers.message);
    return {
      send: (query) =>
        socket.send(query, PORT, server, (error) => {
          if (error) handlers.error(error);
        }),
      close() {
        try {
          socket.close();
        } catch { /* already closed */ }
      },
    };
  };
}

/** The part of `Bun.udpSocket` used here. */
interface BunUdp {
  udpSocket(options: {
    hostname: string;
    socket: {
      data(socket: unknown, data: Uint8Array, port: number, address: string): void;
      error(socket: unknown, error: Error): void;
    };
  }): Promise<{ send(data: Uint8Array, port: number, address: string): boolean; close(): void }>;
}

/** Bun's own UDP socket: its first one opens far sooner than node:dgram's (docs/performance.md). */
const bun = (globalThis as { Bun?: Partial<BunUdp> }).Bun;

/** A socket from `Bun.udpSocket` (opened asynchronously: a question that ends first closes it once it is open). */
const openBunUdp: OpenUdp = (server, handlers) => {
  let closed = false;
  let socket: { close(): void } | undefined;
  // A synchronous throw becomes a rejection too: the question then ends with it, through `handlers.error`.
  const opened = Promise.resolve().then(() =>
    (bun as BunUdp).udpSocket({
      hostname: server.includes(":") ? "::" : "0.0.0.0", // the kernel picks the port
      socket: {
        data: (_socket, data, port, address) => handlers.message(data, { address, port }),
        error: (_socket, error) => handlers.error(error),
      },
    })
  );
  return {
    send(query) {
      opened.then((open) => {
        socket = open;
        if (closed) return open.close();
        if (!open.send(query, PORT, server)) handlers.error(new Error(`could not send a DNS query to ${server}`));
      }).catch(handlers.error);
    },
    close() {
      closed = true;
      try {
        socket?.close();
      } catch { /* already closed */ }
    },
  };
};

/** How a response to `question` is read: undefined when it is not one. */
type Parse<T> = (bytes: Uint8Array, question: DnsQuestion) => T | undefined;

function overUdp<T = DnsAnswer>(
  open: OpenUdp,
  server: string,
  question: DnsQuestion,
  udpPayload: number,
  timeoutMs: number,
  signal: AbortSignal,
  parse: Parse<T> = parseResponse as unknown as Parse<T>,
): Promise<T> {
  return bounded<T>(timeoutMs, signal, `query to ${server}`, (settle) => {
    const socket = open(server, {
      message(message, from) {
        if (from.port !== PORT || !sameAddress(from.address, server)) return;
        const answer = parse(message, question);
        if (answer) settle(undefined, answer);
      },
      error: (error) => settle(error),
    });
    socket.send(encodeQuery(question, udpPayload));
    return () => socket.close();
  });
}

function overTcp<T = DnsAnswer>(
  net: typeof import("node:net"),
  server: string,
  question: DnsQuestion,
  timeoutMs: number,
  signal: AbortSignal,
  parse: Parse<T> = parseResponse as unknown as Parse<T>,
): Promise<T> {
  return bounded<T>(timeoutMs, signal, `query over TCP to ${server}`, (settle) => {
    const socket = net.connect({ host: server, port: PORT, autoSelectFamily: false });
    let buffered = new Uint8Array(0);
    socket.on("error", (error) => settle(error));
    socket.on("connect", () => {
      const query = encodeQuery(question);
      const framed = new Uint8Array(2 + query.length);
      new DataView(framed.buffer).setUint16(0, query.length);
      framed.set(query, 2);
      socket.write(framed);
    });
    socket.on("data", (chunk: Uint8Array) => {
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      buffered = joined;
      if (buffered.length < 2) return;
      const size = (buffered[0] << 8) | buffered[1];
      if (buffered.length < 2 + size) return;
      const answer = parse(buffered.subarray(2, 2 + size), question);
      settle(answer ? undefined : new Error(`DNS server ${server} sent a TCP answer to another question`), answer);
    });
    socket.on("end", () => settle(new Error(`DNS server ${server} closed the TCP connection without an answer`)));
    return () => {
      socket.on("error", () => {}); // a late error after destroy must not crash the process
      socket.destroy();
    };
  });
}

/** Compares a datagram's source with the server, allowing the v4-mapped form some runtimes report. */
function sameAddress(from: string, server: string): boolean {
  return from.replace(/^::ffff:(?=\d+\.)/i, "").toLowerCase() === server.toLowerCase();
}
