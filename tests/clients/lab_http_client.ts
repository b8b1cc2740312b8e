/**
 * Run by tests/clients/lab.test.ts inside the lab's client namespace: one
 * HTTP GET through EyeballsAgent, printing what happened as one JSON line.
 *
 *   <runtime> lab_http_client.(ts|js) <url> <attempt delay ms>
 */

import http from "node:http";
import process from "node:process";
import { EyeballsAgent } from "../../src/clients/mod.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { ConnectEvent } from "../../src/base/types.ts";

const [url, delay] = process.argv.slice(-2);
const events: { type: string; atMs: number; address?: string }[] = [];
const agent = new EyeballsAgent({
  race: {
    schedule: fixedDelay(Number(delay)),
    timeout: 10_000,
    onEvent: (e: ConnectEvent) =>
      events.push({ type: e.type, atMs: Math.round(e.atMs), ...("attempt" in e && { address: e.attempt.address }) }),
  },
});
const started = performance.now();
http.get(url, { agent }, (res) => {
  let bytes = 0;
  res.on("data", (chunk) => (bytes += chunk.length));
  res.on("end", () => {
    const line = {
      status: res.statusCode,
      bytes,
      remoteAddress: res.socket?.remoteAddress ?? null,
      ms: Math.round(performance.now() - started),
      events,
    };
    console.log(JSON.stringify(line));
    agent.destroy();
  });
}).on("error", (error) => {
  console.log(JSON.stringify({ error: String(error), events }));
  agent.destroy();
  process.exitCode = 1;
});
