/**
 * The race on node:diagnostics_channel (src/adapters/shared/tracing.ts): what a subscriber sees, in order, for a
 * connect that wins after a refused address and for one that fails. Node and Bun publish; Deno does not.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import net from "node:net";
import { connect, TRACE_CHANNELS } from "../../src/adapters/node/mod.ts";
import type { Resolver } from "../../src/base/types.ts";
import { startTrace } from "../../src/adapters/shared/tracing.ts";

const skip = "Deno" in globalThis && "Deno: the race is not published on diagnostics_channel (docs/clients.md)";

/** Everything published on the channels while `run` runs, as "channel detail" lines. */
async function recorded(run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const handlers = Object.values(TRACE_CHANNELS).map((name) => {
    const handler = (message: unknown) => {
      const m = message as { attempt?: { address: string }; outcome?: string; address?: string; error?: unknown };
      const detail = m.outcome ? `${m.attempt!.address} ${m.outcome}` : m.attempt?.address ?? m.address ??
        (m.error ? "error" : "");
      seen.push(`${name.slice("eyeballs:".length)} ${detail}`.trim());
    };
    dc.subscribe(name, handler);
    return [name, handler] as const;
  });
  try {
    await run().catch(() => {});
  } finally {
    for (const [name, handler] of handlers) dc.unsubscribe(name, handler);
  }
  return seen;
}

describe("tracing on diagnostics_channel", { skip }, () => {
  it("a connect: start, each attempt's start and end, the winner", async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    // ::1 has no listener on this port: refused, then 127.0.0.1 wins.
    const resolver: Resolver = { resolve: (_n, f) => Promise.resolve(f === 6 ? ["::1"] : ["127.0.0.1"]) };
    try {
      const seen = await recorded(async () =>
        (await connect({ host: "trace.test", port, resolver, history: false })).destroy()
      );
      assert.deepEqual(seen, [
        "connect:start",
        "attempt:start ::1",
        "attempt:end ::1 failed",
        "attempt:start 127.0.0.1",
        "attempt:end 127.0.0.1 won",
        "connect:end 127.0.0.1",
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a failed connect ends with connect:error", async () => {
    const resolver: Resolver = { resolve: () => Promise.resolve([]) };
    const seen = await recorded(() => connect({ host: "nothing.test", port: 9, resolver, history: false }));
    assert.deepEqual(seen, ["connect:start", "connect:error error"]);
  });

  it("with nobody subscribed nothing is built; one subscriber to any channel turns tracing on", () => {
    assert.equal(startTrace("a.test", 80), undefined);
    const handler = () => {};
    dc.subscribe(TRACE_CHANNELS.connectError, handler);
    try {
      assert.notEqual(startTrace("a.test", 80), undefined);
    } finally {
      dc.unsubscribe(TRACE_CHANNELS.connectError, handler);
    }
    assert.equal(startTrace("a.test", 80), undefined);
  });
});
