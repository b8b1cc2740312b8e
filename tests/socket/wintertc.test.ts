/**
 * The socket API against the WinterTC Sockets API: the proposal's behaviours, section by section, and the cases of
 * Cloudflare workerd's socket tests (sockets.c++ and its JS and Python tests), as one table run on Deno, Bun and Node
 * against loopback servers. Where the proposal is silent, a row follows workerd unless docs/socket.md says why not;
 * a row that differs on one runtime names the difference (`differs`), and asserts what happens there instead.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import tls from "node:tls";
import { spawn } from "node:child_process";
import { connect, type Socket } from "../../src/socket/mod.ts";
import { ConnectError } from "../../src/base/errors.ts";
import { loopbackResolver } from "../helpers/loopback.ts";
import { type TestCa, testCa } from "../helpers/test_ca.ts";
import { startFullQueueListener } from "../../scripts/full_queue.ts";
import { listenOn, type Server, serverTls } from "../helpers/socket_servers.ts";

const listen = (onSocket: (socket: net.Socket) => void, allowHalfOpen = false, host = "127.0.0.1"): Promise<Server> =>
  listenOn(host, onSocket, allowHalfOpen);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** Resolves after `ms`; used only to let a condition NOT happen (no timing is asserted). */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Whether `promise` is still pending after the queued tasks ran. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol();
  return (await Promise.race([promise.then(() => null, () => null), pause(0).then(() => marker)])) === marker;
}
/** Everything the readable gives until it ends, as text. */
async function readText(socket: Socket): Promise<string> {
  let text = "";
  for await (const chunk of socket.readable) text += decoder.decode(chunk, { stream: true });
  return text;
}
/** Reads lines from a socket's readable. */
class Lines {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffered = "";
  constructor(socket: Socket) {
    this.reader = socket.readable.getReader();
  }
  async next(): Promise<string | null> {
    for (;;) {
      const end = this.#buffered.indexOf("\n");
      if (end >= 0) {
        const line = this.#buffered.slice(0, end);
        this.#buffered = this.#buffered.slice(end + 1);
        return line;
      }
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.#buffered += decoder.decode(value, { stream: true });
    }
  }
}

async function firstAccepted(server: Server): Promise<net.Socket> {
  while (server.accepted.length === 0) await pause(5);
  return server.accepted[0];
}
/** Resolves once the server's socket got our FIN (at once if it already did). */
const ended = (s: net.Socket) =>
  new Promise<void>((resolve) => (s.readableEnded ? resolve() : s.once("end", () => resolve())));

/**
 * The line server of workerd's Python socket tests: `BASIC x` → `echo: x`, `ECHO x` → `x`, `COUNT n` then n bytes →
 * `COUNTED n`, `SEND n` → n bytes of `y` and FIN, `BYE` → FIN.
 */
function lineServer(s: net.Socket): void {
  let buffered = Buffer.alloc(0);
  let counting = 0;
  s.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (counting > 0) {
        const take = Math.min(counting, buffered.length);
        counting -= take;
        buffered = buffered.subarray(take);
        if (counting === 0) s.write(`COUNTED ${countTotal}\n`);
        if (buffered.length === 0) return;
        continue;
      }
      const end = buffered.indexOf(10);
      if (end < 0) return;
      const line = buffered.subarray(0, end).toString();
      buffered = buffered.subarray(end + 1);
      const [verb, arg = ""] = line.split(/ (.*)/s);
      if (verb === "BASIC") s.write(`echo: ${arg}\n`);
      else if (verb === "ECHO") s.write(`${arg}\n`);
      else if (verb === "COUNT") counting = countTotal = Number(arg);
      else if (verb === "SEND") s.end(Buffer.alloc(Number(arg), "y"));
      else if (verb === "BYE") s.end();
    }
  });
  let countTotal = 0;
}

/**
 * workerd's STARTTLS test server: `HELLO`, expects `HELLO_BACK`, answers `START_TLS` and switches to TLS, where
 * `ping` gets `pong`. `seen` records the plain lines. A `quiet` server greets nobody and upgrades on `STARTTLS`.
 */
async function startTlsServer(ca: TestCa, quiet = false): Promise<Server & { seen: string[] }> {
  const seen: string[] = [];
  const server = await listen((plain) => {
    let buffered = "";
    if (!quiet) plain.write("HELLO\n");
    const upgrade = (leftover?: Buffer) => {
      const options = { cert: ca.serverCert, key: ca.serverKey };
      const secure = leftover
        ? serverTls(plain, leftover, options)
        : new tls.TLSSocket(plain, { isServer: true, ...options });
      secure.on("error", () => {});
      let text = "";
      secure.setEncoding("utf8").on("data", (t: string) => {
        text += t;
        for (let e = text.indexOf("\n"); e >= 0; e = text.indexOf("\n")) {
          const line = text.slice(0, e);
          text = text.slice(e + 1);
          secure.write(line === "ping" ? "pong\n" : `SECURE ${line}\n`);
        }
      });
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        seen.push(line);
        if (!quiet && line === "HELLO_BACK") {
          plain.off("data", onData);
          return plain.write("START_TLS\n", () => upgrade());
        }
        if (quiet && line === "STARTTLS") {
          plain.off("data", onData);
          return upgrade(Buffer.from(buffered, "latin1"));
        }
      }
    };
    plain.on("data", onData);
  });
  return Object.assign(server, { seen });
}

/** A TLS server from the start: each line gets `SECURE <line>` (a TLSSocket over a plain server, as under Deno too). */
async function tlsServer(ca: TestCa): Promise<Server> {
  return await listen((plain) => {
    const secure = new tls.TLSSocket(plain, { isServer: true, cert: ca.serverCert, key: ca.serverKey });
    secure.on("error", () => {});
    let text = "";
    secure.setEncoding("utf8").on("data", (t: string) => {
      text += t;
      for (let e = text.indexOf("\n"); e >= 0; e = text.indexOf("\n")) {
        secure.write(`SECURE ${text.slice(0, e)}\n`);
        text = text.slice(e + 1);
      }
    });
  });
}

/** A server that resets each connection once the client's first bytes arrived (SO_LINGER 0; python, as the lab's helpers). */
async function rstServer(): Promise<Server> {
  const script = [
    "import socket, struct",
    "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8)",
    "print(l.getsockname()[1], flush=True)",
    "while True:",
    "    c, _ = l.accept(); c.recv(100)",
    "    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()",
  ].join("\n");
  const child = spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
  });
  return {
    port,
    accepted: [],
    close: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = await listen(() => {});
  await server.close();
  return server.port;
}

async function hasIpv6Loopback(): Promise<boolean> {
  try {
    const server = await listen(() => {}, false, "::1");
    await server.close();
    return true;
  } catch {
    return false;
  }
}

interface Env {
  ca: TestCa;
  ipv6: boolean;
}

interface Case {
  /** The proposal's section, or the workerd test the row ports. */
  source: string;
  name: string;
  /** Runtimes where eyeballs differs, and why (the row asserts what happens there). */
  differs?: Partial<Record<"deno" | "bun" | "node", string>>;
  run(env: Env): Promise<void>;
}

const CASES: Case[] = [
  // ---- connect (proposal §4 "connect", its steps) ----
  {
    source: "proposal §connect step 1-4",
    name: "connect() returns a socket at once, with every attribute",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        assert.ok(socket.readable instanceof ReadableStream);
        assert.ok(socket.writable instanceof WritableStream);
        assert.ok(socket.opened instanceof Promise);
        assert.ok(socket.closed instanceof Promise);
        assert.equal(typeof socket.close, "function");
        assert.equal(typeof socket.startTls, "function");
        await socket.opened;
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §connect step 6, §SocketInfo",
    name: "opened resolves with remoteAddress and localAddress as host:port",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect(`127.0.0.1:${server.port}`);
        const info = await socket.opened;
        assert.equal(info.remoteAddress, `127.0.0.1:${server.port}`);
        assert.match(info.localAddress ?? "", /^127\.0\.0\.1:\d+$/);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §connect steps 2-3 (marked as handled)",
    name: "a failed connect nobody observes raises no unhandled rejection",
    async run() {
      connect({ hostname: "127.0.0.1", port: await deadPort() });
      await pause(100); // an unhandled rejection would fail this test on every runtime
    },
  },
  {
    source: "proposal §connect step 7",
    name: "a failed connect rejects opened and closed with the same error",
    async run() {
      const socket = connect({ hostname: "127.0.0.1", port: await deadPort() });
      const error = await socket.opened.then(() => assert.fail("opened"), (e) => e);
      assert.ok(error instanceof ConnectError);
      await assert.rejects(socket.closed, (e) => e === error);
    },
  },
  {
    source: "proposal §connect step 7",
    name: "a failed connect cancels the readable: a read ends",
    async run() {
      const socket = connect({ hostname: "127.0.0.1", port: await deadPort() });
      assert.equal((await socket.readable.getReader().read()).done, true);
    },
  },
  {
    source: "proposal §connect step 7",
    name: "a failed connect aborts the writable with the error",
    async run() {
      const socket = connect({ hostname: "127.0.0.1", port: await deadPort() });
      const error = await socket.opened.catch((e) => e);
      await assert.rejects(socket.writable.getWriter().write("x"), (e) => e === error);
    },
  },
  {
    source: "proposal §connect step 8",
    name: "a write before opened is sent once connected",
    async run() {
      const server = await listen(lineServer);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        const write = writer.write("ECHO early\n");
        const lines = new Lines(socket);
        await write;
        assert.equal(await lines.next(), "early");
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §connect step 8",
    name: "a read before opened gets the server's first bytes",
    async run() {
      const server = await listen((s) => s.write("banner\n"));
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        assert.equal(await new Lines(socket).next(), "banner");
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §opened, §SocketOptions secureTransport on",
    name: 'secureTransport "on": opened resolves after the handshake, data goes over TLS',
    async run({ ca }) {
      const server = await tlsServer(ca);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "on",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        assert.equal((await socket.opened).remoteAddress, `127.0.0.1:${server.port}`);
        assert.equal(socket.secureTransport, "on");
        await socket.writable.getWriter().write("hi\n");
        assert.equal(await new Lines(socket).next(), "SECURE hi");
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §opened (secure transport)",
    name: 'secureTransport "on" with a certificate for another name: opened and closed reject',
    async run({ ca }) {
      const server = await tlsServer(ca);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port }, {
          secureTransport: "on",
          expectedServerHostname: "other.example",
          caCerts: [ca.caCert],
        });
        await assert.rejects(socket.opened);
        await assert.rejects(socket.closed);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §AnySocketAddress (DOMString)",
    name: 'an address as "host:port"',
    async run() {
      const server = await listen((s) => s.end("x"));
      try {
        assert.equal(await readText(connect(`127.0.0.1:${server.port}`)), "x");
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §AnySocketAddress, workerd connectImpl (URL parse of [v6]:port)",
    name: 'an address as "[::1]:port" and as { hostname: "::1" }',
    async run({ ipv6 }) {
      if (!ipv6) return; // no IPv6 loopback on this host: nothing to compare
      const server = await listen((s) => s.end("six"), false, "::1");
      try {
        assert.equal(await readText(connect(`[::1]:${server.port}`)), "six");
        const socket = connect({ hostname: "::1", port: server.port });
        assert.equal((await socket.opened).remoteAddress, `[::1]:${server.port}`);
        assert.equal(await readText(socket), "six");
      } finally {
        await server.close();
      }
    },
  },
  {
    source: 'workerd connectImpl ("Specified address is missing port")',
    name: "a string address without a port throws a TypeError",
    run() {
      assert.throws(() => connect("localhost"), TypeError);
      assert.throws(() => connect("localhost:"), TypeError);
      return Promise.resolve();
    },
  },
  {
    source: "workerd isValidHost, proposal §connect (SocketError is a TypeError)",
    name: "an empty or malformed hostname throws a TypeError",
    run() {
      assert.throws(() => connect({ hostname: "", port: 80 }), TypeError);
      assert.throws(() => connect({ hostname: "bad host", port: 80 }), TypeError);
      return Promise.resolve();
    },
  },
  {
    source: "proposal §connect IDL (unsigned short), workerd jsg (Value out of range)",
    name: "a port out of range throws a TypeError",
    run() {
      for (const port of [0, 65536, -1]) assert.throws(() => connect({ hostname: "127.0.0.1", port }), TypeError);
      return Promise.resolve();
    },
  },
  {
    source: "proposal §connect IDL (unsigned short converts a string)",
    name: 'a port given as a string ("8080")',
    differs: {
      deno: "refused with a TypeError on purpose (docs/socket.md)",
      bun: "refused with a TypeError on purpose (docs/socket.md)",
      node: "refused with a TypeError on purpose (docs/socket.md)",
    },
    run() {
      assert.throws(() => connect({ hostname: "127.0.0.1", port: "8080" as never }), { name: "TypeError" });
      return Promise.resolve();
    },
  },
  {
    source: "proposal §SecureTransportKind, workerd parseSecureTransport",
    name: "an unknown secureTransport throws a TypeError",
    run() {
      assert.throws(() => connect("127.0.0.1:80", { secureTransport: "tls" as never }), TypeError);
      return Promise.resolve();
    },
  },
  {
    source: "workerd Socket.secureTransport / upgraded",
    name: 'secureTransport is "off" by default and upgraded is false',
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        assert.equal(socket.secureTransport, "off");
        assert.equal(socket.upgraded, false);
        const starttls = connect({ hostname: "127.0.0.1", port: server.port }, { secureTransport: "starttls" });
        assert.equal(starttls.secureTransport, "starttls");
        await Promise.all([socket.close(), starttls.close()]);
      } finally {
        await server.close();
      }
    },
  },

  // ---- close() (proposal §close) ----
  {
    source: "proposal §close (returns the closed promise)",
    name: "close() returns the closed promise, which resolves",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const closing = socket.close();
        assert.equal(closing, socket.closed);
        await closing;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §close (readable cancelled)",
    name: "close() ends a pending read as done",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const read = socket.readable.getReader().read();
        await socket.close();
        assert.equal((await read).done, true);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §close (writable aborted with the reason)",
    name: "close(reason): writes and the writer's closed reject with the reason",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const writer = socket.writable.getWriter();
        const reason = new Error("enough");
        await socket.close(reason);
        await assert.rejects(writer.write("x"), (e) => e === reason);
        await assert.rejects(writer.closed, (e) => e === reason);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §close (a pending opened is rejected with the reason)",
    name: "close(reason) before the connect finished rejects opened with the reason",
    async run() {
      const silent = await startFullQueueListener("127.0.0.1");
      try {
        const socket = connect({ hostname: "127.0.0.1", port: silent.port });
        const reason = new Error("changed my mind");
        await socket.close(reason);
        await assert.rejects(socket.opened, (e) => e === reason);
      } finally {
        await silent.stop();
      }
    },
  },
  {
    source: "proposal §close (closes the underlying connection)",
    name: "close() releases the connection: the peer sees it end",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const peer = await firstAccepted(server);
        const gone = new Promise((resolve) => peer.once("close", resolve));
        await socket.close();
        await gone;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd Socket::close (forceFlush before closing), proposal §close (writable aborted)",
    name: "close() while a write waits on a peer that does not read",
    differs: {
      deno: "the write is dropped and close() resolves at once, as the proposal's abort says; workerd flushes first",
      bun: "the write is dropped and close() resolves at once, as the proposal's abort says; workerd flushes first",
      node: "the write is dropped and close() resolves at once, as the proposal's abort says; workerd flushes first",
    },
    async run() {
      const server = await listen((s) => s.pause());
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        const write = writer.write(new Uint8Array(32 * 1024 * 1024));
        const queued = writer.write("queued");
        await pause(100);
        assert.equal(await pending(write), true, "the peer reads nothing: the write waits");
        await socket.close();
        await assert.rejects(queued);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd Socket::close (isClosing: a second close returns closed)",
    name: "close() twice resolves both",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        await Promise.all([socket.close(), socket.close()]);
      } finally {
        await server.close();
      }
    },
  },

  // ---- closed, half-open, FIN (proposal §closed, §allowHalfOpen) ----
  {
    source: "proposal §allowHalfOpen false, §closed",
    name: "allowHalfOpen false: the peer's FIN ends the readable, closes the writable (not errored), resolves closed",
    async run() {
      const server = await listen((s) => s.end("bye\n"), true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        const peerSawFin = firstAccepted(server).then(ended);
        assert.equal(await readText(socket), "bye\n");
        await writer.closed;
        await socket.closed;
        await peerSawFin;
        await assert.rejects(writer.write("late"), TypeError);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §allowHalfOpen true",
    name: "allowHalfOpen true: after the peer's FIN the writable still works; closed follows our close",
    async run() {
      const received: string[] = [];
      const server = await listen((s) => {
        s.setEncoding("utf8").on("data", (t: string) => received.push(t));
        s.end("your turn\n");
      }, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port }, { allowHalfOpen: true });
        assert.equal(await readText(socket), "your turn\n");
        assert.equal(await pending(socket.closed), true);
        const writer = socket.writable.getWriter();
        await writer.write("still here");
        await writer.close();
        await socket.closed;
        const peer = await firstAccepted(server);
        if (!peer.readableEnded) await ended(peer);
        assert.equal(received.join(""), "still here");
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §closed note (the readable must be read)",
    name: "the peer's FIN while nobody reads does not resolve closed",
    async run() {
      const server = await listen((s) => s.end("unread\n"), true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const peer = await firstAccepted(server);
        if (!peer.writableFinished) await new Promise((resolve) => peer.once("finish", resolve)); // its FIN is out
        await pause(50);
        assert.equal(await pending(socket.closed), true);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd connectHandler (read to the end, then closed)",
    name: "reading to the end of a server that writes and closes resolves closed",
    async run() {
      const server = await listen((s) => s.end("hello"));
      try {
        const socket = connect(`localhost:${server.port}`, { resolver: loopbackResolver });
        await socket.opened;
        assert.equal(await readText(socket), "hello");
        await socket.closed;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §writable (closing it sends FIN)",
    name: "closing the writable sends FIN; the readable still gets the answer",
    async run() {
      const server = await listen((s) => {
        const chunks: Buffer[] = [];
        s.on("data", (c: Buffer) => chunks.push(c));
        s.on("end", () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
      }, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        await writer.write("half closed");
        await writer.close();
        assert.equal(await readText(socket), "HALF CLOSED");
        await socket.closed;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd maybeCloseWriteSide (flushes before closing)",
    name: "allowHalfOpen false: writes queued when the peer's FIN arrives are sent before our FIN",
    async run() {
      const received: Buffer[] = [];
      const server = await listen((s) => {
        s.on("data", (c: Buffer) => received.push(c));
        s.end("fin\n");
      }, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const writer = socket.writable.getWriter();
        const peer = await firstAccepted(server);
        const peerSawFin = peer.readableEnded ? Promise.resolve() : ended(peer);
        const writes = [writer.write("one "), writer.write("two")];
        assert.equal(await readText(socket), "fin\n");
        await Promise.all(writes);
        await socket.closed;
        await peerSawFin;
        assert.equal(Buffer.concat(received).toString(), "one two");
      } finally {
        await server.close();
      }
    },
  },

  // ---- RST ----
  {
    source: "proposal §closed (FIN or RST, allowHalfOpen false)",
    name: "a peer's RST errors the readable and resolves closed",
    async run() {
      const server = await rstServer();
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.writable.getWriter().write("unread");
        await assert.rejects(socket.readable.getReader().read());
        await socket.closed;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd wireClosedToDisconnect (any disconnect resolves closed)",
    name: "a peer's RST with allowHalfOpen true resolves closed too; later writes reject",
    async run() {
      const server = await rstServer();
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port }, { allowHalfOpen: true });
        const writer = socket.writable.getWriter();
        await writer.write("unread");
        await assert.rejects(socket.readable.getReader().read());
        await socket.closed;
        await assert.rejects(writer.write("after"));
      } finally {
        await server.close();
      }
    },
  },

  // ---- cancel and abort ----
  {
    source: "proposal §closed (cancel + close does not resolve closed)",
    name: "cancelling the readable and closing the writable leaves closed pending while the peer stays",
    async run() {
      const server = await listen(() => {}, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const peerSawFin = ended(await firstAccepted(server));
        await socket.readable.cancel();
        await socket.writable.close();
        await peerSawFin;
        await pause(50);
        assert.equal(await pending(socket.closed), true);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd wireClosedToDisconnect (proposal silent)",
    name: "after cancel + close, the peer's FIN resolves closed",
    async run() {
      const server = await listen(() => {}, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const peer = await firstAccepted(server);
        await socket.readable.cancel();
        await socket.writable.close();
        peer.end("ignored");
        await socket.closed;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §readable (cancel is the reader's business)",
    name: "cancelling the readable alone leaves the writable working",
    async run() {
      const received: string[] = [];
      const server = await listen((s) => s.setEncoding("utf8").on("data", (t: string) => received.push(t)));
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.readable.cancel();
        await socket.writable.getWriter().write("still");
        while (received.join("") !== "still") await pause(5);
        assert.equal(await pending(socket.closed), true);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },

  // ---- backpressure (workerd python tests: large send, large recv, backpressure, partial recv) ----
  {
    source: "proposal §readable (a stream), workerd test_recv_backpressure",
    name: "nothing is read from the network faster than the reader reads",
    async run() {
      const BIG = 32 * 1024 * 1024;
      const server = await listen((s) => s.end(Buffer.alloc(BIG, 7)));
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.opened;
        const peer = await firstAccepted(server);
        await pause(200);
        assert.ok(peer.writableLength > BIG / 2, `the server still holds ${peer.writableLength} bytes`);
        let total = 0;
        for await (const chunk of socket.readable) total += chunk.byteLength;
        assert.equal(total, BIG);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §writable (a stream), workerd socket-close-gc (a write waits for the sink)",
    name: "a write stays pending while the peer does not read",
    async run() {
      const BIG = 32 * 1024 * 1024;
      let received = 0;
      const server = await listen((s) => {
        s.pause();
        s.on("data", (c: Buffer) => (received += c.length));
      });
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        const write = writer.write(new Uint8Array(BIG));
        await pause(200);
        assert.equal(await pending(write), true);
        (await firstAccepted(server)).resume();
        await write;
        while (received < BIG) await pause(10);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd test_basic_send_recv, test_multiple_send_recv",
    name: "send and receive, several times over one connection",
    async run() {
      const server = await listen(lineServer);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        const lines = new Lines(socket);
        await writer.write("BASIC hello from eyeballs\n");
        assert.equal(await lines.next(), "echo: hello from eyeballs");
        for (const word of ["first", "second", "third"]) {
          await writer.write(`ECHO ${word}\n`);
          assert.equal(await lines.next(), word);
        }
        await writer.write("BYE\n");
        assert.equal(await lines.next(), null);
        await socket.closed;
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd test_large_send",
    name: "a 64 KiB write arrives whole",
    async run() {
      const server = await listen(lineServer);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        await writer.write(`COUNT ${64 * 1024}\n`);
        await writer.write(new Uint8Array(64 * 1024).fill(120));
        assert.equal(await new Lines(socket).next(), `COUNTED ${64 * 1024}`);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd test_large_recv, test_partial_recv",
    name: "64 KiB and 1 MiB answers arrive whole, in however many chunks",
    async run() {
      const server = await listen(lineServer);
      try {
        for (const size of [1000, 64 * 1024, 1024 * 1024]) {
          const socket = connect({ hostname: "127.0.0.1", port: server.port });
          await socket.writable.getWriter().write(`SEND ${size}\n`);
          const text = await readText(socket);
          assert.equal(text.length, size);
          assert.equal(text, "y".repeat(size));
          await socket.closed;
        }
      } finally {
        await server.close();
      }
    },
  },

  // ---- what the writable takes (proposal's example writes a string; workerd internal.c++ processChunk) ----
  {
    source: "proposal §Using a socket (writes a string), workerd processChunk",
    name: "a string is sent as UTF-8",
    async run() {
      const server = await listen(lineServer);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        await socket.writable.getWriter().write("ECHO héllo\n");
        assert.equal(await new Lines(socket).next(), "héllo");
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd processChunk (ArrayBuffer, SharedArrayBuffer, ArrayBufferView)",
    name: "an ArrayBuffer, a DataView and a Uint16Array are sent as their bytes",
    async run() {
      const server = await listen(lineServer);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        await writer.write(encoder.encode("ECHO a").buffer as ArrayBuffer);
        await writer.write(new DataView(encoder.encode("-b-").buffer, 1, 1));
        await writer.write(new Uint16Array([0x0a63])); // "c\n" little-endian
        assert.equal(await new Lines(socket).next(), "abc");
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd processChunk (throws a TypeError, the stream lives)",
    name: "a value that is no bytes is refused with a TypeError; the writable stays usable",
    async run() {
      const server = await listen(lineServer);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        const writer = socket.writable.getWriter();
        await assert.rejects(writer.write(42 as never), TypeError);
        await assert.rejects(writer.write(null as never), TypeError);
        await writer.write("ECHO alive\n");
        assert.equal(await new Lines(socket).next(), "alive");
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },

  // ---- startTls() in every state (proposal §startTls, workerd Socket::startTls and its tests) ----
  {
    source: 'proposal §startTls (fails unless secureTransport is "starttls")',
    name: 'startTls() on an "off" socket throws a TypeError',
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port });
        assert.throws(() => socket.startTls(), TypeError);
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §startTls (fails on an existing TLS socket)",
    name: 'startTls() on an "on" socket throws a TypeError',
    async run({ ca }) {
      const server = await tlsServer(ca);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "on",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        assert.throws(() => socket.startTls(), TypeError);
        await socket.opened;
        await socket.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTls (already called)",
    name: "startTls() twice: the second throws a TypeError, and the upgraded socket cannot startTls",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        await socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls();
        assert.throws(() => socket.startTls(), TypeError);
        assert.throws(() => secure.startTls(), TypeError);
        await secure.opened;
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTls (connection closed before startTls)",
    name: "startTls() after close() throws a TypeError",
    async run() {
      const server = await listen(() => {});
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port }, { secureTransport: "starttls" });
        await socket.opened;
        await socket.close();
        assert.throws(() => socket.startTls(), TypeError);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTls (connection failed)",
    name: "startTls() after a failed connect throws a TypeError",
    async run() {
      const socket = connect({ hostname: "127.0.0.1", port: await deadPort() }, { secureTransport: "starttls" });
      await socket.opened.catch(() => {});
      assert.throws(() => socket.startTls(), TypeError);
    },
  },
  {
    source: "workerd startTls (flush, then upgrade; proposal silent on timing)",
    name: "startTls() before opened settles waits for the connect, flushes, then upgrades",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        const write = socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls();
        await write;
        await socket.opened;
        const writer = secure.writable.getWriter();
        await writer.write("ping\n");
        assert.equal(await new Lines(secure).next(), "pong");
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTls (writable.flush before the upgrade)",
    name: "writes queued when startTls() is called go out in plain text before the ClientHello",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port }, {
          secureTransport: "starttls",
          expectedServerHostname: "localhost",
          caCerts: [ca.caCert],
        });
        await socket.opened;
        const writer = socket.writable.getWriter();
        const writes = [writer.write("EHLO a\n"), writer.write("EHLO b\n"), writer.write("STARTTLS\n")];
        const secure = socket.startTls();
        await Promise.all(writes);
        await secure.writable.getWriter().write("ping\n");
        assert.equal(await new Lines(secure).next(), "pong");
        assert.deepEqual(server.seen, ["EHLO a", "EHLO b", "STARTTLS"]);
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTlsCloudflareTest / startTlsSuccess (HELLO, HELLO_BACK, START_TLS, ping, pong)",
    name: "the STARTTLS exchange of workerd's test, with released reader and writer",
    async run({ ca }) {
      const server = await startTlsServer(ca);
      try {
        const socket = connect(`localhost:${server.port}`, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        const writer = socket.writable.getWriter();
        const lines = new Lines(socket);
        assert.equal(await lines.next(), "HELLO");
        await writer.write(encoder.encode("HELLO_BACK\n"));
        assert.equal(await lines.next(), "START_TLS");
        lines.reader.releaseLock();
        writer.releaseLock();
        const secure = socket.startTls();
        await secure.opened;
        const tlsWriter = secure.writable.getWriter();
        await tlsWriter.write(encoder.encode("ping\n"));
        assert.equal(await new Lines(secure).next(), "pong");
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §startTls (the original socket is closed; its readers and writers no longer work)",
    name: "after startTls() the old socket's closed resolves, its reads end and its writes reject",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        const writer = socket.writable.getWriter();
        await writer.write("STARTTLS\n");
        const reader = socket.readable.getReader();
        const secure = socket.startTls();
        await socket.closed;
        assert.equal((await reader.read()).done, true);
        await assert.rejects(writer.write("plain"), TypeError);
        await secure.opened;
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd testStartTlsBehaviorOnUpgrade (upgraded, secureTransport)",
    name: "the attributes after startTls()",
    differs: {
      deno: "the new socket has upgraded true and secureTransport starttls; workerd: old upgraded true, new on",
      bun: "the new socket has upgraded true and secureTransport starttls; workerd: old upgraded true, new on",
      node: "the new socket has upgraded true and secureTransport starttls; workerd: old upgraded true, new on",
    },
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        await socket.opened;
        await socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls();
        await socket.closed;
        assert.equal(socket.upgraded, false);
        assert.equal(secure.upgraded, true);
        assert.equal(secure.secureTransport, "starttls");
        await secure.opened;
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTls (checks the name connected to), connect()'s TLS options",
    name: "startTls() without arguments checks the name connected to, trusting connect()'s caCerts",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        await socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls();
        assert.equal((await secure.opened).remoteAddress, `127.0.0.1:${server.port}`);
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §opened (secure handshake), startTls expectedServerHostname",
    name: "startTls() with a name the certificate does not carry: the new socket's opened rejects",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "127.0.0.1", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
        });
        await socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls({ expectedServerHostname: "other.example" });
        await assert.rejects(secure.opened);
        await assert.rejects(secure.closed);
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTls (detaches the readable whatever its state)",
    name: "a read() pending on the old socket ends as done; the upgrade goes on",
    differs: { deno: "the upgrade fails with a TypeError: Deno cannot hand over a connection with a read in flight" },
    async run({ ca }) {
      const server = await startTlsServer(ca);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        const writer = socket.writable.getWriter();
        const lines = new Lines(socket);
        assert.equal(await lines.next(), "HELLO");
        await writer.write("HELLO_BACK\n");
        assert.equal(await lines.next(), "START_TLS");
        const read = lines.reader.read();
        await pause(20); // the read reaches the runtime
        const secure = socket.startTls();
        assert.equal((await read).done, true);
        if (runtime === "deno") {
          await assert.rejects(secure.opened, TypeError);
          return;
        }
        await secure.writable.getWriter().write("ping\n");
        assert.equal(await new Lines(secure).next(), "pong");
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "workerd startTlsEarlySend (use the new socket before its opened)",
    name: "writing to the new socket before its opened resolves",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        await socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls();
        await secure.writable.getWriter().write("ping\n");
        assert.equal(await new Lines(secure).next(), "pong");
        await secure.close();
      } finally {
        await server.close();
      }
    },
  },
  {
    source: "proposal §close on an upgraded socket",
    name: "close() on the new socket releases the connection",
    async run({ ca }) {
      const server = await startTlsServer(ca, true);
      try {
        const socket = connect({ hostname: "localhost", port: server.port }, {
          secureTransport: "starttls",
          caCerts: [ca.caCert],
          resolver: loopbackResolver,
        });
        await socket.writable.getWriter().write("STARTTLS\n");
        const secure = socket.startTls();
        await secure.opened;
        const peer = await firstAccepted(server);
        const gone = new Promise((resolve) => peer.once("close", resolve));
        await secure.close();
        await gone;
      } finally {
        await server.close();
      }
    },
  },
];

describe(`socket vs the WinterTC Sockets API (${CASES.length} cases, ${runtime})`, () => {
  const env = {} as Env;
  before(async () => {
    env.ca = await testCa();
    env.ipv6 = await hasIpv6Loopback();
  });
  after(() => {});
  for (const row of CASES) {
    const note = row.differs?.[runtime];
    it(`${row.name} [${row.source}]${note ? ` (differs: ${note})` : ""}`, async () => {
      // A hang fails its own row instead of the whole table.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the case hung for 20 s")), 20_000);
      });
      try {
        await Promise.race([row.run(env), hung]);
      } finally {
        clearTimeout(timer);
      }
    });
  }
});
