/**
 * Local servers and resolvers for the client tests: everything on loopback,
 * names answered with a dead address first so that the race matters.
 */

import type net from "node:net";
import tls from "node:tls";
import http from "node:http";
import https from "node:https";
import type { Family, Resolver } from "../../src/base/types.ts";

export const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/**
 * A resolver that answers every name with `::1` (where nothing listens on
 * the port: refused at once) before `127.0.0.1`, so the first attempt fails.
 */
export const deadFirstResolver: Resolver = {
  resolve: (_name: string, family: Family) => Promise.resolve(family === 6 ? ["::1"] : ["127.0.0.1"]),
};

/** A resolver that answers every name with the given addresses, IPv6 first when both are given. */
export function resolverFor(addresses: readonly string[]): Resolver {
  return {
    resolve: (_name: string, family: Family) =>
      Promise.resolve(addresses.filter((a) => (a.includes(":") ? 6 : 4) === family)),
  };
}

/** A started server and how to stop it (closing every connection it has). */
export interface Started<S> {
  readonly server: S;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Connections open now. */
  readonly open: () => number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 only, on a free port, and tracks the connections. */
export async function listen<S extends net.Server>(server: S, event = "connection"): Promise<Started<S>> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on(event, (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTP/1.1 server answering every request with its method and path, and the client's port. */
export function startHttp(): Promise<Started<http.Server>> {
  return listen(http.createServer((req, res) => {
    res.setHeader("x-client-port", String(req.socket.remotePort));
    res.end(`${req.method} ${req.url}`);
  }));
}

/** The HTTPS counterpart of {@linkcode startHttp}. */
export function startHttps(key: string, cert: string): Promise<Started<https.Server>> {
  return listen(
    https.createServer({ key, cert }, (req, res) => {
      res.setHeader("x-client-port", String(req.socket.remotePort));
      res.end(`${req.method} ${req.url}`);
    }),
    "secureConnection",
  );
}

/** What a TLS server saw of one handshake. */
export interface Seen {
  servername: string | false | undefined;
  alpn: string | false | null;
  authorized: boolean;
  clientCn?: string;
}

/** A TLS server that records what each client offered and answers "hi". */
export async function startTls(options: tls.TlsOptions): Promise<Started<tls.Server> & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = tls.createServer(options, (socket) => {
    const peer = socket.getPeerCertificate();
    seen.push({
      servername: (socket as tls.TLSSocket & { servername?: string | false }).servername,
      alpn: socket.alpnProtocol,
      authorized: socket.authorized,
      clientCn: peer && typeof peer.subject?.CN === "string" ? peer.subject.CN : undefined,
    });
    socket.end("hi\n");
  });
  return Object.assign(await listen(server, "secureConnection"), { seen });
}

/** Reads a socket to its end. */
export function readAll(socket: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

/** Waits for `check` to be true, polling every 20 ms, up to `ms`. */
export async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  for (let waited = 0; !check() && waited < ms; waited += 20) await new Promise((r) => setTimeout(r, 20));
  return check();
}
