/**
 * Run by tests/lab/tls_race.test.ts inside the lab's client namespace, under the runtime of the test: one TLS
 * connect to HOST:PORT, by eyeballs (`connectTls` of this runtime's adapter; `agent`: an `EyeballsHttpsAgent`'s
 * socket; `socket`: the Sockets API with `secureTransport: "on"`) or by the runtime's own TLS connect
 * (`tls.connect` on Node and Bun, `Deno.connectTls` on Deno), given WAIT_MS at most. Prints one JSON object.
 *
 *   tls_client.ts eyeballs|agent|socket|runtime HOST PORT CA_FILE WAIT_MS
 *
 * @module
 */

import { readFileSync } from "node:fs";
import tls from "node:tls";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const [mode, host, port, caFile, waitMs] = [argv[0], argv[1], Number(argv[2]), argv[3], Number(argv[4])];
const ca = readFileSync(caFile, "utf8");
const started = performance.now();

/** What happened: the address a finished handshake reached, or why there was none. */
type Outcome = { ok: true; address: string; ms: number } | { ok: false; error: string; ms: number };

async function viaEyeballs(): Promise<Outcome> {
  const settings = { port, timeout: waitMs };
  if (g.Deno) {
    const { connectTls } = await import("../../src/adapters/deno/mod.ts");
    const conn = await connectTls({ hostname: host, ...settings, caCerts: [ca] });
    const address = (conn.remoteAddr as { hostname: string }).hostname;
    conn.close();
    return { ok: true, address, ms: performance.now() - started };
  }
  const { connectTls } = g.Bun
    ? await import("../../src/adapters/bun/mod.ts").then((m) => ({
      connectTls: (o: Record<string, unknown>) => m.connectTls({ hostname: host, ...o } as never),
    }))
    : await import("../../src/adapters/node/mod.ts").then((m) => ({
      connectTls: (o: Record<string, unknown>) => m.connectTls({ host, ...o } as never),
    }));
  const socket = await connectTls({ ...settings, ca: [ca] });
  const address = socket.remoteAddress!;
  socket.destroy();
  return { ok: true, address, ms: performance.now() - started };
}

async function viaAgent(): Promise<Outcome> {
  const { EyeballsHttpsAgent } = await import("../../src/clients/agent.ts");
  const agent = new EyeballsHttpsAgent({ ca: [ca], race: { timeout: waitMs } });
  const socket = agent.createConnection({ ...agent.options, host, port });
  await new Promise((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const address = socket.remoteAddress!;
  socket.destroy();
  return { ok: true, address, ms: performance.now() - started };
}

async function viaSocket(): Promise<Outcome> {
  const { connect } = await import("../../src/socket/mod.ts");
  const socket = connect({ hostname: host, port }, { secureTransport: "on", caCerts: [ca], timeout: waitMs });
  const { remoteAddress } = await socket.opened;
  await socket.close();
  // "[v6]:port" or "v4:port"
  const address = remoteAddress!.startsWith("[")
    ? remoteAddress!.slice(1, remoteAddress!.indexOf("]"))
    : remoteAddress!.split(":")[0];
  return { ok: true, address, ms: performance.now() - started };
}

function viaRuntime(): Promise<Outcome> {
  return new Promise((resolve) => {
    if (g.Deno) {
      const timer = setTimeout(() => {
        // Deno.connectTls takes no signal: the process leaves with the handshake still waiting.
        console.log(
          JSON.stringify({ ok: false, error: "no handshake within the wait", ms: performance.now() - started }),
        );
        g.Deno.exit(0);
      }, waitMs);
      // Deno.connectTls resolves once TCP is up; the handshake is over when handshake() resolves.
      g.Deno.connectTls({ hostname: host, port, caCerts: [ca] }).then(
        async (conn: { close(): void; handshake(): Promise<unknown>; remoteAddr: { hostname: string } }) => {
          await conn.handshake();
          clearTimeout(timer);
          resolve({ ok: true, address: conn.remoteAddr.hostname, ms: performance.now() - started });
          conn.close();
        },
      ).catch((e: Error) => {
        clearTimeout(timer);
        resolve({ ok: false, error: String(e), ms: performance.now() - started });
      });
      return;
    }
    const socket = tls.connect({ host, port, ca: [ca], servername: host });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: "no handshake within the wait", ms: performance.now() - started });
    }, waitMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      resolve({ ok: true, address: socket.remoteAddress!, ms: performance.now() - started });
      socket.destroy();
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, error: String(e), ms: performance.now() - started });
    });
  });
}

const via = { eyeballs: viaEyeballs, agent: viaAgent, socket: viaSocket, runtime: viaRuntime }[mode] ?? viaRuntime;
const outcome = await via().catch((e: unknown): Outcome => ({
  ok: false,
  error: String(e),
  ms: performance.now() - started,
}));
console.log(JSON.stringify(outcome));
if (!g.Deno) g.process.exit(0);
