/**
 * One connect for bench/delays.ts, run inside the lab's client namespace under Deno: the Deno adapter with a
 * given Resolution Delay and a halving schedule from FIRST with floor FLOOR, history off. Prints one JSON line.
 *
 *   delays_client.ts NAME PORT RESOLUTION_DELAY FIRST FLOOR
 *
 * @module
 */

import { connectWithTimeline } from "../src/adapters/deno/mod.ts";
import { halving } from "../src/race/schedule.ts";

const [name, port, resolutionDelay, first, floor] = Deno.args;
const started = performance.now();
try {
  const { conn, address, attempts } = await connectWithTimeline({
    hostname: name,
    port: Number(port),
    resolutionDelay: Number(resolutionDelay),
    schedule: halving(Number(first), { min: Number(floor) }),
    history: false,
    timeout: 20_000,
  });
  conn.close();
  console.log(JSON.stringify({ ok: true, ms: performance.now() - started, address, attempts: attempts.length }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, ms: performance.now() - started, error: String(error).split("\n")[0] }));
}
