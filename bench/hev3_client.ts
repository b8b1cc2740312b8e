/**
 * One HEv3 benchmark client process, run inside the lab's client namespace by bench/hev3.ts:
 *
 *   hev3_client.ts eyeballs|native|tcp-then-tls HOST PORT TIMEOUT_MS [CA_FILE]
 *
 * Without CA_FILE, one TCP connect: eyeballs through this runtime's adapter with the stub resolver (which asks the
 * HTTPS record beside AAAA and A) and ALPN h2, http/1.1 offered, no history; or the runtime's own connect. With
 * CA_FILE, one TLS connect: the adapter's `connectTls` with its default resolver (what a caller gets; the stub on Node
 * and Bun, systemResolver on Deno), or the runtime's own (`tls.connect`, `Deno.connectTls`),
 * or (tcp-then-tls) the runtime's own TCP connect and then its own TLS on it, as each of eyeballs' attempts does.
 * Prints one JSON line: `{"ok":true,"ms":21.4,"address":"2001:db8::10"}` or `{"ok":false,"ms":...,"error":"..."}`.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import tls from "node:tls";
import { exit, nativeConnector, runtimeName } from "./connectors.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const ALPN = ["h2", "http/1.1"];

/** This runtime's adapter, imported before the clock starts (the import is not part of the connect). */
async function adapter() {
  const rt = runtimeName();
  if (rt === "deno") return { deno: await import("../src/adapters/deno/mod.ts") };
  return {
    node: rt === "bun" ? await import("../src/adapters/bun/mod.ts") : await import("../src/adapters/node/mod.ts"),
  };
}

/** One connect through `loaded`; resolves with the address reached, closing the connection. */
async function eyeballs(
  loaded: Awaited<ReturnType<typeof adapter>>,
  host: string,
  port: number,
  timeout: number,
  ca?: string,
): Promise<string> {
  const { deno, node } = loaded;
  if (deno) {
    const options = { hostname: host, port, timeout, history: false as const };
    const conn = ca
      ? await deno.connectTls({ ...options, caCerts: [ca], alpnProtocols: ALPN })
      : await deno.connect({ ...options, resolver: deno.stubResolver, alpn: ALPN });
    conn.close();
    return (conn.remoteAddr as { hostname: string }).hostname;
  }
  const where = runtimeName() === "bun" ? { hostname: host } : { host };
  const options = { ...where, port, timeout, history: false as const };
  const socket = ca
    ? await node!.connectTls({ ...options, ca: [ca], ALPNProtocols: ALPN } as never)
    : await node!.connect({ ...options, resolver: node!.stubResolver, alpn: ALPN } as never);
  const address = socket.remoteAddress!;
  socket.destroy();
  return address;
}

/** The runtime's own TLS connect, given `timeout` ms (Deno.connectTls takes no signal: the process then leaves). */
function nativeTls(host: string, port: number, timeout: number, ca: string): Promise<string> {
  if (g.Deno) {
    const timer = setTimeout(() => {
      console.log(JSON.stringify({ ok: false, ms: performance.now() - started, error: "no handshake" }));
      g.Deno.exit(0);
    }, timeout);
    // It resolves once TCP is up: the handshake is over when handshake() resolves.
    return g.Deno.connectTls({ hostname: host, port, caCerts: [ca] }).then(
      async (conn: { close(): void; handshake(): Promise<unknown>; remoteAddr: { hostname: string } }) => {
        await conn.handshake();
        clearTimeout(timer);
        conn.close();
        return conn.remoteAddr.hostname;
      },
    );
  }
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, ca: [ca], servername: host });
    const timer = setTimeout(() => socket.destroy(new Error("no handshake")), timeout);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      resolve(socket.remoteAddress!);
      socket.destroy();
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * The runtime's own TCP connect and then its own TLS on that connection (`Deno.connect` + `Deno.startTls`,
 * `net.connect` + `tls.connect({ socket })`): what eyeballs does on each attempt, without the race.
 */
async function nativeTcpThenTls(host: string, port: number, timeout: number, ca: string): Promise<string> {
  // Neither Deno.startTls nor a stalled tls.connect here has a bound of its own: the process leaves at the timeout.
  setTimeout(() => {
    console.log(JSON.stringify({ ok: false, ms: performance.now() - started, error: "no handshake" }));
    exit(0);
  }, timeout);
  if (g.Deno) {
    const tcp = await g.Deno.connect({ hostname: host, port });
    const secure = await g.Deno.startTls(tcp, { hostname: host, caCerts: [ca] });
    await secure.handshake();
    secure.close();
    return tcp.remoteAddr.hostname;
  }
  const net = await import("node:net");
  const socket = net.connect({ host, port });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const secure = tls.connect({ socket, ca: [ca], servername: host });
  await new Promise((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
  const address = socket.remoteAddress!;
  secure.destroy();
  return address;
}

const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const [mode, host, portText, timeoutText, caFile] = argv;
const [port, timeout] = [Number(portText), Number(timeoutText)];
const ca = caFile ? readFileSync(caFile, "utf8") : undefined;
const loaded = mode === "eyeballs" ? await adapter() : undefined;
const started = performance.now();
try {
  const address = loaded
    ? await eyeballs(loaded, host, port, timeout, ca)
    : ca && mode === "tcp-then-tls"
    ? await nativeTcpThenTls(host, port, timeout, ca)
    : ca
    ? await nativeTls(host, port, timeout, ca)
    : await nativeConnector()(host, port, timeout).then((conn) => (conn.close(), conn.address));
  console.log(JSON.stringify({ ok: true, ms: performance.now() - started, address }));
} catch (error) {
  const e = error as { code?: string; message?: string };
  const text = e?.code ?? String(e?.message ?? error).split("\n")[0];
  console.log(JSON.stringify({ ok: false, ms: performance.now() - started, error: text }));
}
exit(0);
