/**
 * The demo behind `npm run demo` / `deno task demo`: eyeballs next to the
 * traditional one-address-at-a-time loop, on loopback only, with no network
 * and no root.
 *
 *   deno run -A scripts/demo.ts        (also runs under `bun scripts/demo.ts`)
 *
 * The "server" has two addresses, IPv6 first, as a resolver would list them:
 *
 * 1. `::1` is blackholed (a listener whose accept queue is full silently
 *    drops SYNs, see full_queue.ts) and `127.0.0.1` answers. The loop waits
 *    on `::1` until its cap, 10 s here (the kernel alone would retry for
 *    about 2 minutes); eyeballs starts `127.0.0.1` after its attempt delay.
 * 2. `::1` refuses and `127.0.0.1` answers: both are fast, since a refusal
 *    moves both on at once.
 *
 * Takes about 15 s, most of it the loop's wait.
 *
 * @module
 */

import net from "node:net";
import { connect } from "../src/connect/connect.ts";
import { reasonOf } from "../src/base/errors.ts";
import { fixedDelay, type Schedule } from "../src/race/schedule.ts";
import type { ConnectEvent, Dialer, Resolver } from "../src/base/types.ts";
import { formatSummary, formatTimeline } from "../src/cli/format.ts";
import { type FullQueueListener, startFullQueueListener } from "./full_queue.ts";

/** The traditional loop's cap per address; a plain connect would wait ~127 s. */
const LOOP_CAP_MS = 10_000;

/** The name the demo "resolves": IPv6 first, as getaddrinfo would order it. */
const ADDRESSES = [
  { address: "::1", family: 6 as const },
  { address: "127.0.0.1", family: 4 as const },
];
const NAME = "dual.test";

/** A resolver for {@linkcode NAME} that answers from {@linkcode ADDRESSES}, no DNS involved. */
const resolver: Resolver = {
  resolve: (_name, family) => Promise.resolve(ADDRESSES.filter((a) => a.family === family).map((a) => a.address)),
};

/** The runtime's plain connect: `Deno.connect` under Deno, `net.connect` elsewhere. */
async function runtimeDialer(): Promise<{ name: string; dialer: Dialer<unknown> }> {
  if ("Deno" in globalThis) {
    const { denoDialer } = await import("../src/adapters/deno/mod.ts");
    return { name: "Deno.connect", dialer: denoDialer };
  }
  const { nodeDialer } = await import("../src/adapters/node/mod.ts");
  return { name: "net.connect", dialer: nodeDialer };
}

/** A server on 127.0.0.1 that accepts and hangs up. */
function startLiveServer(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port }, () => resolve(server));
  });
}

const closeServer = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;
const ms = (value: number) => `${value.toFixed(0)} ms`;

/** The traditional loop: each address in turn, the next only once one has failed. */
async function traditional(dialer: Dialer<unknown>, name: string, port: number): Promise<number> {
  console.log(`traditional loop (${name}, one address at a time, capped at ${ms(LOOP_CAP_MS)} each):`);
  const started = performance.now();
  for (const { address, family } of ADDRESSES) {
    const at = performance.now();
    const where = family === 6 ? `[${address}]` : address;
    try {
      const conn = await dialer.dial({ address, family, port }, AbortSignal.timeout(LOOP_CAP_MS));
      dialer.close(conn);
      console.log(`  ${where.padEnd(11)} connected after ${ms(performance.now() - at)}`);
      const total = performance.now() - started;
      console.log(`connected to ${address} port ${port} in ${ms(total)}`);
      return total;
    } catch (error) {
      const why = error instanceof DOMException && error.name === "TimeoutError"
        ? "no answer, gave up"
        : reasonOf(error);
      console.log(`  ${where.padEnd(11)} ${why} after ${ms(performance.now() - at)}`);
    }
  }
  throw new Error("the traditional loop found no live address");
}

/** eyeballs on the same addresses; prints its timeline and returns its time. */
async function eyeballs(dialer: Dialer<unknown>, port: number, label: string, schedule?: Schedule): Promise<number> {
  console.log(`eyeballs (${label}):`);
  const events: ConnectEvent[] = [];
  const result = await connect({
    hostname: NAME,
    port,
    resolver,
    dialer,
    schedule,
    onEvent: (event) => events.push(event),
  });
  dialer.close(result.conn);
  for (const line of formatTimeline(events, result.attempts)) console.log(line);
  console.log(formatSummary(result));
  return result.ms;
}

/** The one-line conclusion. Below 100 ms both are instant on loopback, and a ratio would be noise. */
function conclude(loopMs: number, eyeballsMs: number, why: string): void {
  const verdict = loopMs < 100
    ? "both connected at once"
    : `eyeballs connected ${(loopMs / eyeballsMs).toFixed(0)}× faster`;
  console.log(`\n=> loop ${ms(loopMs)}, eyeballs ${ms(eyeballsMs)}: ${verdict}${why}.\n`);
}

/**
 * Case 1's two listeners on one port: ::1 blackholed, 127.0.0.1 live. The
 * free port comes from the blackhole; a few tries cover the rare case of
 * 127.0.0.1 already using it.
 */
async function blackholedFirst(): Promise<{ port: number; stop(): Promise<void> }> {
  for (let tries = 0;; tries++) {
    const dead: FullQueueListener = await startFullQueueListener("::1");
    try {
      const live = await startLiveServer(dead.port);
      return { port: dead.port, stop: async () => void await Promise.all([dead.stop(), closeServer(live)]) };
    } catch (error) {
      await dead.stop();
      if (tries >= 4) throw error;
    }
  }
}

/** Case 2's listener: 127.0.0.1 live on a port where ::1 has no listener, so it refuses. */
async function refusedFirst(): Promise<{ port: number; stop(): Promise<void> }> {
  const live = await startLiveServer(0);
  return { port: portOf(live), stop: () => closeServer(live) };
}

async function main(): Promise<void> {
  const { name, dialer } = await runtimeDialer();
  console.log(
    `Two addresses for ${NAME}, IPv6 first: ${ADDRESSES.map((a) => a.address).join(", ")}. All on loopback.\n`,
  );

  console.log("--- case 1: ::1 is blackholed (its SYNs are dropped), 127.0.0.1 answers ---");
  const case1 = await blackholedFirst();
  try {
    const loopMs = await traditional(dialer, name, case1.port);
    console.log();
    const defaultMs = await eyeballs(dialer, case1.port, "default schedule: next attempt after 500 ms");
    console.log();
    const rfcMs = await eyeballs(dialer, case1.port, "RFC 8305 schedule: next attempt after 250 ms", fixedDelay(250));
    conclude(
      loopMs,
      defaultMs,
      ` (${(loopMs / rfcMs).toFixed(0)}× with the RFC's 250 ms): it does not wait on a silent address`,
    );
  } finally {
    await case1.stop();
  }

  console.log("--- case 2: ::1 refuses, 127.0.0.1 answers ---");
  const case2 = await refusedFirst();
  try {
    const loopMs = await traditional(dialer, name, case2.port);
    console.log();
    const eyeballsMs = await eyeballs(dialer, case2.port, "default schedule");
    conclude(
      loopMs,
      eyeballsMs,
      ": a refusal moves both on at once; the loop is slow only when an address is silent",
    );
  } finally {
    await case2.stop();
  }
}

await main();
