/**
 * What createConnection's Duplex costs over a bare net.Socket, on loopback:
 * bulk throughput, small request/response round trips, and connects. Not a
 * test (no timing claims in tests): a measurement for docs/clients.md.
 *
 *   deno run -A tests/clients/socket_shape_cost.ts
 *   bun tests/clients/socket_shape_cost.ts
 *   node npm_test/tests/clients/socket_shape_cost.js   (after deno run -A scripts/build_npm.ts --no-test)
 */

import net from "node:net";
import type { Duplex } from "node:stream";
import { connect } from "../../src/adapters/node/mod.ts";
import { createConnection } from "../../src/clients/mod.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : `node ${process.version}`;

const server = net.createServer((socket) => {
  socket.on("error", () => {});
  socket.on("data", (chunk) => {
    if (chunk.length <= 64) socket.write(chunk); // echo small messages, swallow bulk
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const port = (server.address() as net.AddressInfo).port;

type Opener = () => Promise<Duplex>;
/** eyeballs' connect: the race, and the winning net.Socket itself (what a "real net.Socket" shape would give). */
const raced: Opener = () => connect({ host: "127.0.0.1", port });
const bare: Opener = () =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
const eyeballs: Opener = () =>
  new Promise((resolve, reject) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });

async function bulk(open: Opener, mib: number): Promise<number> {
  const socket = await open();
  const chunk = Buffer.alloc(64 * 1024, 1);
  const started = performance.now();
  for (let i = 0; i < mib * 16; i++) {
    if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
  }
  await new Promise<void>((r) => socket.end(() => r()));
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return mib / seconds;
}

async function pingPong(open: Opener, rounds: number): Promise<number> {
  const socket = await open();
  const message = Buffer.alloc(32, 2);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    const reply = new Promise((r) => socket.once("data", r));
    socket.write(message);
    await reply;
  }
  const us = ((performance.now() - started) * 1000) / rounds;
  socket.destroy();
  return us;
}

async function connects(open: Opener, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) (await open()).destroy();
  return ((performance.now() - started) * 1000) / count;
}

const rows: string[] = [];
for (
  const [name, open] of [["net.connect", bare], ["eyeballs connect (net.Socket)", raced], [
    "createConnection (Duplex)",
    eyeballs,
  ]] as const
) {
  await bulk(open, 64); // warm-up
  const mbps = Math.max(await bulk(open, 256), await bulk(open, 256));
  await pingPong(open, 500);
  const rtt = Math.min(await pingPong(open, 5000), await pingPong(open, 5000));
  await connects(open, 100);
  const connect = Math.min(await connects(open, 1000), await connects(open, 1000));
  rows.push(`| ${runtime} | ${name} | ${mbps.toFixed(0)} MiB/s | ${rtt.toFixed(1)} µs | ${connect.toFixed(0)} µs |`);
}
console.log("| runtime | socket | bulk write | 32-byte round trip | connect + destroy |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
server.close();
