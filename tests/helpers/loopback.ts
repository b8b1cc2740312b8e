/**
 * Real loopback scenarios shared by the adapter tests: each adapter runs the
 * same suite against real kernel sockets on 127.0.0.1 and ::1.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readdirSync } from "node:fs";
import { startFullQueueListener } from "../../scripts/full_queue.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { ConnectEvent, Resolver } from "../../src/base/types.ts";

/** What the suite needs from an adapter: its connect, and a way to talk over its connection type. */
export interface AdapterUnderTest<Conn> {
  /** Calls the adapter's `connect` with its own host field name. */
  connect(host: string, port: number, extra?: Record<string, unknown>): Promise<Conn>;
  /** Writes text. */
  send(conn: Conn, text: string): Promise<void>;
  /** Reads until `expected` bytes of text arrived. */
  receive(conn: Conn, length: number): Promise<string>;
  close(conn: Conn): void;
}

/** A resolver giving the loopback addresses of both families. */
export const loopbackResolver: Resolver = {
  resolve: (_name, family) => Promise.resolve(family === 6 ? ["::1"] : ["127.0.0.1"]),
};

/** A server that greets every client with a banner and then echoes. */
export async function startBannerServer(host: string, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.write("hello\n"); // sent at once, before the client reads: it must not be lost
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Open file descriptors of this process (Linux), or undefined where /proc is missing. */
export function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/** Waits until the fd count is back to `baseline` (closing is asynchronous in some runtimes), up to 2 s. */
async function fdsBackTo(baseline: number): Promise<number> {
  let now = openFds()!;
  for (let i = 0; i < 40 && now > baseline; i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = openFds()!;
  }
  return now;
}

/** Runs the loopback suite for one adapter. */
export function loopbackSuite<Conn>(name: string, skip: string | false, adapter: AdapterUnderTest<Conn>): void {
  describe(`${name} adapter on loopback`, { skip }, () => {
    it("connects to 127.0.0.1 and ::1, and carries data both ways without losing the banner", async () => {
      for (const host of ["127.0.0.1", "::1"]) {
        const server = await startBannerServer(host);
        try {
          const conn = await adapter.connect(host, server.port);
          await new Promise((r) => setTimeout(r, 100)); // the banner arrives before anyone reads
          assert.equal(await adapter.receive(conn, 6), "hello\n");
          await adapter.send(conn, "ping\n");
          assert.equal(await adapter.receive(conn, 5), "ping\n");
          adapter.close(conn);
        } finally {
          await server.close();
        }
      }
    });

    it("refused first address: the next attempt starts at once, not after the delay", async () => {
      const server = await startBannerServer("127.0.0.1"); // nothing listens on ::1 at that port
      const events: ConnectEvent[] = [];
      try {
        const conn = await adapter.connect("dual.loopback", server.port, {
          resolver: loopbackResolver,
          preferredFamily: 6, // the race is under test, not the host's RFC 6724 order (IPv4 first without global IPv6)
          schedule: fixedDelay(2000),
          onEvent: (e: ConnectEvent) => events.push(e),
        });
        adapter.close(conn);
      } finally {
        await server.close();
      }
      const ends = events.filter((e) => e.type === "attempt-failed" || e.type === "attempt-won");
      assert.deepEqual(ends.map((e) => [e.type, "attempt" in e ? e.attempt.address : ""]), [
        ["attempt-failed", "::1"],
        ["attempt-won", "127.0.0.1"],
      ]);
      const failed = ends[0] as { error: { code?: string } };
      assert.equal(failed.error.code, "ECONNREFUSED");
      assert.equal(events.filter((e) => e.type === "timer-expired").length, 0, "no wait for the 2 s timer");
    });

    it("blackholed first address (full accept queue): lands on IPv4; the hanging attempt is aborted", async () => {
      const blackhole = await startFullQueueListener("::1");
      const server = await startBannerServer("127.0.0.1", blackhole.port);
      const events: ConnectEvent[] = [];
      try {
        const conn = await adapter.connect("dual.loopback", blackhole.port, {
          resolver: loopbackResolver,
          preferredFamily: 6, // as above
          schedule: fixedDelay(100),
          onEvent: (e: ConnectEvent) => events.push(e),
        });
        assert.equal(await adapter.receive(conn, 6), "hello\n");
        adapter.close(conn);
      } finally {
        await server.close();
        await blackhole.stop();
      }
      const outcomes = events.flatMap((e) =>
        e.type === "attempt-won" || e.type === "attempt-aborted" ? [`${e.attempt.address} ${e.type}`] : []
      );
      assert.deepEqual(outcomes.sort(), ["127.0.0.1 attempt-won", "::1 attempt-aborted"]);
    });

    it("abort mid-race and timeout: every socket is released", async () => {
      const v6 = await startFullQueueListener("::1");
      const v4 = await startFullQueueListener("127.0.0.1", v6.port);
      try {
        const before = openFds();
        const controller = new AbortController();
        const pending = adapter.connect("dual.loopback", v6.port, {
          resolver: loopbackResolver,
          schedule: fixedDelay(50),
          signal: controller.signal,
        });
        setTimeout(() => controller.abort(new Error("user abort")), 200);
        await assert.rejects(pending, /user abort/);

        const error = await adapter.connect("dual.loopback", v6.port, {
          resolver: loopbackResolver,
          schedule: fixedDelay(50),
          timeout: 300,
        }).then(() => assert.fail("should time out"), (e) => e);
        assert.ok(error instanceof AggregateError);
        assert.match(error.message, /timed out after 300 ms/);
        assert.match(error.message, /\[::1\] port \d+: timed out/);
        assert.match(error.message, /127\.0\.0\.1 port \d+: timed out/);

        if (before !== undefined) assert.equal(await fdsBackTo(before), before, "file descriptors leaked");
      } finally {
        await v4.stop();
        await v6.stop();
      }
    });

    it("a signal that has already fired: rejects with its reason, nothing dialled", async () => {
      const reason = new Error("gave up before starting");
      const events: ConnectEvent[] = [];
      await assert.rejects(
        adapter.connect("dual.loopback", 9, {
          resolver: loopbackResolver,
          signal: AbortSignal.abort(reason),
          onEvent: (e: ConnectEvent) => events.push(e),
        }),
        (error) => error === reason,
      );
      assert.deepEqual(events, []);
    });

    it("all addresses refused: one AggregateError naming each", async () => {
      const server = await startBannerServer("127.0.0.1");
      const port = server.port;
      await server.close(); // now nothing listens on either family
      const error = await adapter.connect("dual.loopback", port, { resolver: loopbackResolver })
        .then(() => assert.fail("should fail"), (e) => e);
      assert.ok(error instanceof AggregateError);
      assert.match(error.message, new RegExp(`\\[::1\\] port ${port}: refused`));
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1 port ${port}: refused`));
      assert.equal(error.errors.length, 2);
    });

    it("the default resolver answers localhost itself (RFC 6761), in both families", async () => {
      const server = await startBannerServer("127.0.0.1"); // nothing on ::1: that attempt is refused
      try {
        const events: ConnectEvent[] = [];
        const conn = await adapter.connect("localhost", server.port, { onEvent: (e: ConnectEvent) => events.push(e) });
        adapter.close(conn);
        const resolved = events.flatMap((e) => (e.type === "resolved" ? [[e.family, e.addresses]] : []));
        assert.deepEqual(resolved.sort(), [[4, ["127.0.0.1"]], [6, ["::1"]]]);
      } finally {
        await server.close();
      }
    });
  });
}
