/**
 * Run by tests/lab/svcb.test.ts inside the lab's client namespace, under the
 * runtime of the test: asks the stub resolver for HTTPS/SVCB records of the
 * names the test set up and prints one JSON object (Uint8Arrays as arrays).
 *
 *   svcb_client.ts NAME[:PORT[:SCHEME]]...   resolveServices for each
 *   svcb_client.ts connect:NAME:PORT[:ALPN,...]  connect (node:net, the stub resolver) and its events
 *
 * @module
 */

import { createStubResolver } from "../../src/dns/stub.ts";
import { connectWithTimeline } from "../../src/adapters/node/mod.ts";
import type { ConnectEvent } from "../../src/base/types.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const resolver = createStubResolver();
const result: Record<string, unknown> = {};
for (const spec of argv) {
  if (spec.startsWith("connect:")) {
    const [, host, port, alpn] = spec.split(":");
    const events: ConnectEvent[] = [];
    try {
      const connected = await connectWithTimeline({
        host,
        port: Number(port),
        resolver,
        history: false,
        timeout: 5000,
        ...(alpn && { alpn: alpn.split(",") }),
        onEvent: (e) => events.push(e),
      });
      connected.conn.destroy();
      const { address, port: dialled, endpoint, ms } = connected;
      result[spec] = { value: { address, port: dialled, endpoint, ms }, events };
    } catch (error) {
      result[spec] = { error: String(error), events };
    }
    continue;
  }
  const [name, port = "443", scheme] = spec.split(":");
  const started = performance.now();
  try {
    const answer = await resolver.resolveServices(name, Number(port), new AbortController().signal, scheme);
    result[spec] = { value: answer, ms: performance.now() - started };
  } catch (error) {
    result[spec] = { error: String(error) };
  }
}
console.log(JSON.stringify(result, (_key, value) => value instanceof Uint8Array ? [...value] : value));
