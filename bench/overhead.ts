/**
 * Core overhead: sequential connects to a loopback server in this process,
 * eyeballs against the runtime's raw connect, in interleaved rounds.
 *
 *   overhead.ts PER_ROUND ROUNDS WITH_LOCALHOST(0|1)
 *
 * Prints one JSON line per (round, variant): `{"variant":"eyeballs ip",
 * "round":3,"n":200,"ms":81.2}`, after a `{"meta":{...}}` line. Round 0 is a
 * warm-up (JIT, lazy imports) and is marked `"warmup":true`.
 *
 * The variant order rotates every round, so that slow drift (CPU frequency,
 * TIME_WAIT buildup, GC) lands on every variant alike.
 *
 * Tracing (Node and Bun): "eyeballs ip, traced" runs with a subscriber on
 * every `diagnostics_channel` channel eyeballs publishes on, subscribed for
 * that variant's turn only; and a `{"tracing":{...}}` line gives what the
 * check that nobody subscribes costs a connect, timed over a million calls.
 *
 * @module
 */

import net from "node:net";
import { startTrace, TRACE_CHANNELS } from "../src/adapters/shared/tracing.ts";
import {
  type Connector,
  exit,
  eyeballsConnector,
  nativeConnector,
  netSingle,
  runtimeName,
  runtimeVersion,
} from "./connectors.ts";

/** Listens on 127.0.0.1 and, if it exists, ::1, on one port; answers nothing. */
async function startServer(): Promise<{ port: number; v6: boolean; close: () => void }> {
  const servers: net.Server[] = [];
  const listen = (host: string, port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.on("error", () => {}); // a client reset is not our concern
        socket.resume(); // drain until the client closes; then Node ends our side
      });
      server.once("error", reject);
      server.listen({ host, port }, () => resolve(server));
    });
  const first = await listen("127.0.0.1", 0);
  servers.push(first);
  const port = (first.address() as net.AddressInfo).port;
  let v6 = false;
  try {
    servers.push(await listen("::1", port));
    v6 = true;
  } catch {
    // No IPv6 loopback here: "localhost" then means 127.0.0.1 only.
  }
  return { port, v6, close: () => servers.forEach((s) => s.close()) };
}

async function main(argv: string[]): Promise<number> {
  const perRound = Number(argv[0] ?? 200);
  const rounds = Number(argv[1] ?? 10);
  const withLocalhost = argv[2] === "1";
  const server = await startServer();
  const eyeballs = await eyeballsConnector();
  const variants: Array<[string, Connector, string]> = [
    ["native ip", nativeConnector(), "127.0.0.1"],
    ["eyeballs ip", eyeballs, "127.0.0.1"],
  ];
  if (runtimeName() !== "node") variants.push(["node:net ip", netSingle, "127.0.0.1"]);
  // Deno is not traced (src/adapters/shared/tracing.ts says why).
  const dc = runtimeName() === "deno" ? undefined : await import("node:diagnostics_channel");
  let published = 0;
  const count = () => void published++;
  const subscribe = (on: boolean) => {
    for (const name of Object.values(TRACE_CHANNELS)) on ? dc!.subscribe(name, count) : dc!.unsubscribe(name, count);
  };
  if (dc) variants.push(["eyeballs ip, traced", eyeballs, "127.0.0.1"]);
  if (withLocalhost) {
    variants.push(["native localhost", nativeConnector(), "localhost"]);
    variants.push(["eyeballs localhost", eyeballs, "localhost"]);
  }
  console.log(JSON.stringify({ meta: { runtime: runtimeVersion(), port: server.port, ipv6Loopback: server.v6 } }));
  const calls = 1_000_000;
  const t = performance.now();
  for (let i = 0; i < calls; i++) if (startTrace("127.0.0.1", server.port) !== undefined) throw new Error("subscribed");
  console.log(JSON.stringify({ tracing: { uncheckedNsPerConnect: ((performance.now() - t) * 1e6) / calls } }));
  for (let round = 0; round <= rounds; round++) {
    const n = round === 0 ? Math.max(20, perRound >> 2) : perRound;
    for (let k = 0; k < variants.length; k++) {
      const [variant, dial, host] = variants[(k + round) % variants.length];
      const traced = variant.endsWith("traced");
      if (traced) subscribe(true);
      const t0 = performance.now();
      let address = "";
      for (let i = 0; i < n; i++) {
        const conn = await dial(host, server.port);
        address = conn.address;
        conn.close();
      }
      const ms = performance.now() - t0;
      if (traced) subscribe(false);
      console.log(JSON.stringify({ variant, round, n, ms, address, warmup: round === 0 }));
    }
  }
  if (dc && published === 0) throw new Error("tracing: the traced variant published nothing");
  server.close();
  return 0;
}

const args = typeof process !== "undefined" ? process.argv.slice(2) : [];
exit(await main(args));
