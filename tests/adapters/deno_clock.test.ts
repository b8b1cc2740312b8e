/**
 * Deno's race clock: timers from `AbortSignal.timeout`, not `setTimeout`, whose first call loads a module.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { denoClock } from "../../src/adapters/deno/clock.ts";
import { DENO } from "../../src/adapters/deno/dialer.ts";
import { connect } from "../../src/adapters/deno/mod.ts";
import { startBannerServer } from "../helpers/loopback.ts";

const notDeno = !("Deno" in globalThis) && "Deno's clock is tested under deno test";

describe("denoClock", { skip: notDeno }, () => {
  it("fires each timer no earlier than asked, a fractional delay rounded up, and in the order due", async () => {
    const start = performance.now();
    const fired: Array<[number, number]> = [];
    const all = [15, 0.5, 4].map((ms) =>
      new Promise<void>((resolve) =>
        denoClock.setTimer(() => {
          fired.push([ms, performance.now() - start]);
          resolve();
        }, ms)
      )
    );
    await Promise.all(all);
    assert.deepEqual(fired.map(([ms]) => ms), [0.5, 4, 15]);
    for (const [ms, at] of fired) assert.ok(at >= Math.ceil(ms) - 0.5, `${ms} ms timer fired at ${at} ms`);
  });

  it("does not fire a delay past the 32-bit range at once (Deno fires such a timer at once)", async () => {
    let fired = false;
    const cancel = denoClock.setTimer(() => fired = true, 2 ** 31 + 5);
    await new Promise<void>((resolve) => denoClock.setTimer(resolve, 30));
    cancel();
    assert.equal(fired, false);
  });

  it("never fires a cancelled timer", async () => {
    let fired = false;
    const cancel = denoClock.setTimer(() => fired = true, 1);
    cancel();
    cancel(); // twice is harmless
    await new Promise<void>((resolve) => denoClock.setTimer(resolve, 20));
    assert.equal(fired, false);
  });

  it("keeps a process alive for a pending timer, and not for a cancelled one (fresh processes)", async () => {
    const url = new URL("../../src/adapters/deno/clock.ts", import.meta.url).href;
    const run = async (code: string) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["eval", `import { denoClock } from ${JSON.stringify(url)};\n${code}`],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // A child still running after a minute waits for the hour-long timer: kill it, and the check below fails.
      const kill = setTimeout(() => child.kill(), 60_000);
      const { code: exit, stdout } = await child.output();
      clearTimeout(kill);
      return { exit, out: new TextDecoder().decode(stdout).trim().split("\n") };
    };
    const pending = await run(`denoClock.setTimer(() => console.log("fired"), 50); console.log("set");`);
    assert.deepEqual(pending, { exit: 0, out: ["set", "fired"] }, "the process waited for its timer");
    const cancelled = await run(`const cancel = denoClock.setTimer(() => console.log("fired"), 3_600_000);
cancel(); console.log("cancelled");`);
    assert.deepEqual(cancelled, { exit: 0, out: ["cancelled"] }, "the process ended without waiting an hour");
  });

  it("is the Deno adapter's clock: a race to localhost with a timeout calls no setTimeout of ours", async () => {
    const server = await startBannerServer("127.0.0.1"); // ::1 refuses: a race of two attempts
    const g = globalThis as unknown as { setTimeout: (...args: unknown[]) => unknown };
    const real = g.setTimeout;
    let ours = 0;
    g.setTimeout = (...args: unknown[]) => {
      if (new Error().stack?.includes("/src/")) ours++;
      return real(...args);
    };
    try {
      assert.equal(DENO.clock, denoClock);
      const conn = await connect({ hostname: "localhost", port: server.port, timeout: 5000 }); // the timeout's timer too
      conn.close();
    } finally {
      g.setTimeout = real;
      await server.close();
    }
    assert.equal(ours, 0);
  });
});
