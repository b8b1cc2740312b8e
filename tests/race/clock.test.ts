import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { abortSignalClock, inSteps, MAX_TIMER_MS, systemClock } from "../../src/race/clock.ts";
import { connect } from "../../src/connect/connect.ts";

/**
 * Runs `body` with `setTimeout` and `clearTimeout` replaced by recorders. Each setTimeout call busy-waits as long as
 * `stalls` says, in order, as Deno's first setTimeout does while it loads a module. Nothing is really scheduled.
 */
function withRecordedTimers(stalls: number[], body: () => void) {
  const set: number[] = [];
  const cleared: unknown[] = [];
  const g = globalThis as unknown as { setTimeout: unknown; clearTimeout: unknown };
  const [realSet, realClear] = [g.setTimeout, g.clearTimeout];
  g.setTimeout = (_callback: () => void, ms: number) => {
    const stall = stalls[set.length] ?? 0;
    set.push(ms);
    const end = performance.now() + stall;
    while (performance.now() < end); // a call that takes this long
    return set.length;
  };
  g.clearTimeout = (id: unknown) => cleared.push(id);
  try {
    body();
  } finally {
    [g.setTimeout, g.clearTimeout] = [realSet, realClear];
  }
  return { set, cleared };
}

describe("systemClock", () => {
  it("a setTimeout call that took 20 ms is set again for what is left, so the timer is due when asked", () => {
    const { set, cleared } = withRecordedTimers([20], () => systemClock.setTimer(() => {}, 250)());
    assert.equal(set.length, 2);
    assert.equal(set[0], 250);
    assert.ok(set[1] <= 230 && set[1] >= 0, `set again for ${set[1]} ms`);
    assert.deepEqual(cleared, [1, 2]); // the first one at once, the second by the cancel
  });

  it("a quick call is set once; one that took longer than the delay is due at once", () => {
    const quick = withRecordedTimers([], () => systemClock.setTimer(() => {}, 250)());
    assert.deepEqual(quick.set, [250]);
    assert.deepEqual(quick.cleared, [1]);
    const slow = withRecordedTimers([15], () => systemClock.setTimer(() => {}, 10));
    assert.deepEqual(slow.set, [10, 0]);
  });
});

describe("inSteps: delays past a runtime timer's 32-bit range", () => {
  /** A fake runtime timer: records each delay asked for; `fire()` runs the pending one. */
  function fakeTimer() {
    const asked: number[] = [];
    let pending: (() => void) | undefined;
    let cancelled = 0;
    const setTimer = inSteps((callback, ms) => {
      asked.push(ms);
      pending = callback;
      return () => {
        cancelled++;
        pending = undefined;
      };
    });
    const fire = () => {
      const due = pending!;
      pending = undefined;
      due();
    };
    return { setTimer, asked, fire, cancelled: () => cancelled, pending: () => pending !== undefined };
  }

  it("sets a delay within the range once, as asked", () => {
    const t = fakeTimer();
    let calls = 0;
    t.setTimer(() => calls++, MAX_TIMER_MS);
    assert.deepEqual(t.asked, [MAX_TIMER_MS]);
    t.fire();
    assert.equal(calls, 1);
  });

  it("waits out a longer delay in steps, calling back once, at the end", () => {
    const t = fakeTimer();
    let calls = 0;
    t.setTimer(() => calls++, 2 * MAX_TIMER_MS + 5);
    t.fire();
    t.fire();
    assert.equal(calls, 0, "not before the last step");
    t.fire();
    assert.equal(calls, 1);
    assert.deepEqual(t.asked, [MAX_TIMER_MS, MAX_TIMER_MS, 5]);
    assert.equal(t.pending(), false);
  });

  it("cancels whichever step is pending", () => {
    const t = fakeTimer();
    let calls = 0;
    const cancel = t.setTimer(() => calls++, 3 * MAX_TIMER_MS);
    t.fire();
    cancel();
    assert.equal(t.cancelled(), 1);
    assert.equal(t.pending(), false);
    assert.equal(calls, 0);
  });

  it("is the system clock's: a 30-day delay asks setTimeout for its largest delay, not more", () => {
    const { set } = withRecordedTimers([], () => systemClock.setTimer(() => {}, 30 * 86_400_000)());
    assert.deepEqual(set, [MAX_TIMER_MS]);
  });

  it("a connect with a timeout of weeks does not time out at once (the runtimes fire such a timer in 1 ms or 0)", async () => {
    const connected = await connect({
      hostname: "192.0.2.1",
      port: 443,
      timeout: 30 * 86_400_000,
      dialer: {
        dial: () => new Promise<string>((resolve) => setTimeout(() => resolve("conn"), 20)),
        close: () => {},
      },
    });
    assert.equal(connected.conn, "conn");
  });
});

describe("abortSignalClock (Deno's own web timers)", {
  skip: !("Deno" in globalThis) && "abortSignalClock is for Deno: tested under deno test",
}, () => {
  it("fires each timer no earlier than asked, a fractional delay rounded up, and in the order due", async () => {
    const start = performance.now();
    const fired: Array<[number, number]> = [];
    const all = [15, 0.5, 4].map((ms) =>
      new Promise<void>((resolve) =>
        abortSignalClock.setTimer(() => {
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
    const cancel = abortSignalClock.setTimer(() => fired = true, 2 ** 31 + 5);
    await new Promise<void>((resolve) => abortSignalClock.setTimer(resolve, 30));
    cancel();
    assert.equal(fired, false);
  });

  it("never fires a cancelled timer", async () => {
    let fired = false;
    const cancel = abortSignalClock.setTimer(() => fired = true, 1);
    cancel();
    cancel(); // twice is harmless
    await new Promise<void>((resolve) => abortSignalClock.setTimer(resolve, 20));
    assert.equal(fired, false);
  });

  it("keeps a process alive for a pending timer, and not for a cancelled one (fresh processes)", async () => {
    const url = new URL("../../src/race/clock.ts", import.meta.url).href;
    const run = async (code: string) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["eval", `import { abortSignalClock } from ${JSON.stringify(url)};\n${code}`],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // A child still running after a minute waits for the hour-long timer: kill it, and the check below fails.
      const kill = setTimeout(() => child.kill(), 60_000);
      const { code: exit, stdout } = await child.output();
      clearTimeout(kill);
      return { exit, out: new TextDecoder().decode(stdout).trim().split("\n") };
    };
    const pending = await run(`abortSignalClock.setTimer(() => console.log("fired"), 50); console.log("set");`);
    assert.deepEqual(pending, { exit: 0, out: ["set", "fired"] }, "the process waited for its timer");
    const cancelled = await run(`const cancel = abortSignalClock.setTimer(() => console.log("fired"), 3_600_000);
cancel(); console.log("cancelled");`);
    assert.deepEqual(cancelled, { exit: 0, out: ["cancelled"] }, "the process ended without waiting an hour");
  });
});
