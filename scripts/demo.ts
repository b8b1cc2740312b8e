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
 * 2. Case 1 again, twice, sharing one history: the second connect knows
 *    `::1` is silent and goes straight to `127.0.0.1`.
 * 3. `::1` refuses and `127.0.0.1` answers: both are fast, since a refusal
 *    moves both on (eyeballs after RFC 8305's 10 ms floor).
 *
 * Each eyeballs run gets a fresh in-memory history (case 2 shares one on
 * purpose), so no case is won by what the one before it taught. Every
 * sentence printed is computed from what happened. Takes about 12 s, most of
 * it the loop's wait.
 *
 * @module
 */

import net from "node:net";
import { connect } from "../src/connect/connect.ts";
import { reasonOf } from "../src/base/errors.ts";
import { defaultSchedule, fixedDelay, type Schedule } from "../src/race/schedule.ts";
import { type History, MemoryHistory } from "../src/history/history.ts";
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

/** eyeballs on the same addresses, with a history of its own unless one is given; prints its timeline. */
async function eyeballs(
  dialer: Dialer<unknown>,
  port: number,
  label: string,
  options: { schedule?: Schedule; history?: History } = {},
): Promise<number> {
  console.log(`eyeballs (${label}):`);
  const events: ConnectEvent[] = [];
  const result = await connect({
    hostname: NAME,
    port,
    resolver,
    dialer,
    schedule: options.schedule,
    history: options.history ?? new MemoryHistory(),
    onEvent: (event) => events.push(event),
  });
  dialer.close(result.conn);
  for (const line of formatTimeline(events, result.attempts)) console.log(line);
  console.log(formatSummary(result));
  return result.ms;
}

/** The delays the default schedule starts attempts with, as the code computes them. */
function defaultDelays(count: number): string {
  return Array.from({ length: count }, (_, i) => defaultSchedule({ started: i + 1, expiries: i })).join(", ");
}

/** Compares two times as they were measured: a ratio only where the difference is real. */
function compare(aName: string, aMs: number, bName: string, bMs: number): string {
  const [fast, slow, fastMs, slowMs] = aMs <= bMs ? [aName, bName, aMs, bMs] : [bName, aName, bMs, aMs];
  const both = `${aName} ${ms(aMs)}, ${bName} ${ms(bMs)}`;
  if (slowMs - fastMs < Math.max(5, 0.2 * slowMs)) return `${both}: about the same`;
  return `${both}: ${fast} ${(slowMs / fastMs).toFixed(0)}× faster than ${slow}`;
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
    `Two addresses for ${NAME}, IPv6 first: ${ADDRESSES.map((a) => a.address).join(", ")}. All on loopback.`,
  );
  console.log(`eyeballs' default schedule starts attempts ${defaultDelays(5)} ms apart (halving, 10 ms floor).\n`);

  console.log("--- case 1: ::1 is blackholed (its SYNs are dropped), 127.0.0.1 answers ---");
  const case1 = await blackholedFirst();
  try {
    const loopMs = await traditional(dialer, name, case1.port);
    console.log();
    const defaultMs = await eyeballs(dialer, case1.port, `default schedule: next attempt after ${defaultDelays(1)} ms`);
    console.log();
    const slower = 500;
    const slowMs = await eyeballs(dialer, case1.port, `a fixed ${slower} ms delay`, { schedule: fixedDelay(slower) });
    console.log(`\n=> ${compare("the loop", loopMs, "eyeballs", defaultMs)}.`);
    console.log(
      `=> ${
        compare(`a ${slower} ms delay`, slowMs, "the default", defaultMs)
      }: the delay is what a silent address costs.\n`,
    );

    console.log("--- case 2: case 1 again, twice, with one shared history ---");
    const history = new MemoryHistory();
    const firstMs = await eyeballs(dialer, case1.port, "first connect: nothing known yet", { history });
    console.log();
    const secondMs = await eyeballs(dialer, case1.port, "second connect: history knows ::1 is silent", { history });
    console.log(`\n=> ${compare("the first", firstMs, "the second", secondMs)}: history, not the schedule.\n`);
  } finally {
    await case1.stop();
  }

  console.log("--- case 3: ::1 refuses, 127.0.0.1 answers ---");
  const case2 = await refusedFirst();
  try {
    const loopMs = await traditional(dialer, name, case2.port);
    console.log();
    const eyeballsMs = await eyeballs(dialer, case2.port, "default schedule");
    console.log(
      `\n=> ${
        compare("the loop", loopMs, "eyeballs", eyeballsMs)
      }: a refusal moves the loop on at once, eyeballs after RFC 8305's 10 ms floor.`,
    );
  } finally {
    await case2.stop();
  }
}

await main();
