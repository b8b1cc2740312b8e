import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/race/clock.ts";

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
