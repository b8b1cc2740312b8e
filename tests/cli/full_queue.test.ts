/**
 * scripts/full_queue.ts, the blackhole used by the demo and the loopback
 * tests: connects to it must hang, and its python child must never outlive
 * `stop()`.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { startFullQueueListener } from "../../scripts/full_queue.ts";

/** Connects and reports what happened within `ms`: "connected", "hang" or the error code. */
function tryConnect(host: string, port: number, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (what: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done("hang"), ms);
    socket.once("connect", () => done("connected"));
    socket.once("error", (e: Error & { code?: string }) => done(e.code ?? e.message));
  });
}

/** Whether a process exists (Linux /proc; true where /proc is missing, so the check is skipped). */
const alive = (pid: number) => !existsSync("/proc/self") || existsSync(`/proc/${pid}`);

describe("full-queue listener", () => {
  it("connects to it hang, on IPv4 and IPv6; after stop() the port refuses and the child is gone", async () => {
    for (const host of ["127.0.0.1", "::1"]) {
      const listener = await startFullQueueListener(host);
      assert.ok(listener.port > 0);
      try {
        assert.equal(await tryConnect(host, listener.port, 400), "hang");
      } finally {
        await Promise.all([listener.stop(), listener.stop()]); // twice is fine
      }
      if (existsSync("/proc/self")) assert.equal(alive(listener.pid), false, "python child still running");
      assert.equal(await tryConnect(host, listener.port, 2000), "ECONNREFUSED");
    }
  });

  it("takes a given port; rejects a busy port (with python's reason), a name and a bad port", async () => {
    const first = await startFullQueueListener("::1");
    try {
      await assert.rejects(startFullQueueListener("::1", first.port), /Address already in use/);
      const v4 = await startFullQueueListener("127.0.0.1", first.port).catch(() => undefined);
      if (v4) { // 127.0.0.1 had that port free too, as is usual
        assert.equal(v4.port, first.port);
        await v4.stop();
      }
    } finally {
      await first.stop();
    }
    await assert.rejects(startFullQueueListener("localhost"), { name: "TypeError", message: /IP address literal/ });
    await assert.rejects(startFullQueueListener("::1", 70000), { name: "RangeError" });
  });
});
