import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/core/connect.ts";
import { fixedDelay, halving } from "../../src/core/schedule.ts";
import type { ConnectEvent } from "../../src/core/types.ts";
import { FakeClock, settle } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

/** Addresses 192.0.2.1..n, so order is easy to read. */
const v4 = (n: number) => Array.from({ length: n }, (_, i) => `192.0.2.${i + 1}`);

function setup(
  addresses: string[],
  scripts: Record<string, Script>,
  options: Record<string, unknown> = {},
  clock = new FakeClock(),
) {
  const dialer = new FakeDialer(clock, scripts);
  const events: ConnectEvent[] = [];
  const result = connect({
    hostname: "multi.test",
    port: 80,
    family: 4,
    resolver: fakeResolver(clock, { 4: addresses }),
    dialer,
    clock,
    onEvent: (e) => events.push(e),
    ...options,
  });
  result.catch(() => {}); // observed by the tests that expect a rejection
  const starts = () => events.flatMap((e) => (e.type === "attempt-start" ? [e.atMs] : []));
  return { clock, dialer, events, result, starts };
}

describe("schedule start times", () => {
  it("fixed delay: one attempt every 250 ms", async () => {
    const t = setup(v4(4), {}, { schedule: fixedDelay(250), timeout: 5000 });
    await t.clock.advance(1000);
    assert.deepEqual(t.starts(), [0, 250, 500, 750]);
    assert.deepEqual(t.dialer.dialed, v4(4));
  });

  it("fixed delay is clamped to RFC 8305's 10 ms .. 2 s", async () => {
    const fast = setup(v4(3), {}, { schedule: fixedDelay(1) });
    await fast.clock.advance(100);
    assert.deepEqual(fast.starts(), [0, 10, 20]);
    const slow = setup(v4(2), {}, { schedule: fixedDelay(60_000) });
    await slow.clock.advance(5000);
    assert.deepEqual(slow.starts(), [0, 2000]);
  });

  it("halving, exactly as the ISC article: 500 ms, halved at each expiry, all started within 1 s", async () => {
    const t = setup(v4(12), {}, { schedule: halving(500), maxAttemptsInFlight: 12 });
    await t.clock.advance(2000);
    // delays 500, 250, 125, 62, 31, 15, 7, 3, 1, 0, 0
    assert.deepEqual(t.starts(), [0, 500, 750, 875, 937, 968, 983, 990, 993, 994, 994, 994]);
    assert.ok(t.starts().every((ms) => ms < 2 * 500));
  });

  it("late timers do not add up: each start keeps to the schedule's deadline", async () => {
    const t = setup(v4(8), {}, { schedule: halving(500) }, new FakeClock({ lateness: 7 }));
    await t.clock.advance(2000);
    // Every timer (the lookup's too) fires 7 ms late, yet each start stays 7 ms behind its deadline,
    // 7 + 500, 250, 125, 62, 31, 15, 7: the lateness does not add up.
    assert.deepEqual(t.starts(), [7, 514, 764, 889, 951, 982, 997, 1004]);
  });

  it("the default schedule is the article's with a 10 ms floor", async () => {
    const t = setup(v4(9), {}, { maxAttemptsInFlight: 9 });
    await t.clock.advance(2000);
    assert.deepEqual(t.starts(), [0, 500, 750, 875, 937, 968, 983, 993, 1003]);
    assert.ok(t.starts().slice(0, 8).every((ms) => ms < 1000));
  });

  it("a failure starts the next attempt at once and does not halve the delay", async () => {
    const t = setup(v4(3), { "192.0.2.1": { fail: 30 } }, { schedule: halving(500) });
    await t.clock.advance(600);
    assert.deepEqual(t.starts(), [0, 30, 530]);
  });

  it("an earlier attempt that connects after a later one started still wins", async () => {
    const t = setup(v4(3), { "192.0.2.1": { connect: 700 } }, { schedule: fixedDelay(250) });
    await t.clock.advance(1000);
    const won = await t.result;
    assert.equal(won.address, "192.0.2.1");
    assert.deepEqual(won.attempts.map((a) => a.outcome), ["won", "aborted", "aborted"]);
    assert.equal(t.dialer.signals.get("192.0.2.2")?.aborted, true);
    assert.equal(t.dialer.signals.get("192.0.2.1")?.aborted, false);
  });

  it("the last attempt is untimed: no timer after it, and it may take as long as it needs", async () => {
    const t = setup(v4(2), { "192.0.2.2": { connect: 60_000 } }, { schedule: fixedDelay(250) });
    await t.clock.advance(260);
    assert.equal(t.clock.pending, 1, "only the dial's own timer is pending");
    await t.clock.advance(60_000);
    const won = await t.result;
    assert.equal(won.address, "192.0.2.2");
    assert.equal(t.events.filter((e) => e.type === "timer-expired").length, 1);
  });

  it("never kills an attempt because its timer fired", async () => {
    const t = setup(v4(3), {
      "192.0.2.1": { connect: 5000 },
      "192.0.2.2": { fail: 1 },
      "192.0.2.3": { fail: 1 },
    }, { schedule: fixedDelay(100) });
    await t.clock.advance(6000);
    assert.equal((await t.result).address, "192.0.2.1");
  });

  it("caps attempts in flight", async () => {
    const t = setup(v4(4), { "192.0.2.1": { fail: 2000 } }, { schedule: fixedDelay(10), maxAttemptsInFlight: 2 });
    await t.clock.advance(1000);
    assert.deepEqual(t.starts(), [0, 10]);
    await t.clock.advance(1500);
    assert.deepEqual(t.starts(), [0, 10, 2000]);
  });
});

describe("winners and losers", () => {
  it("two attempts connecting in the same turn: exactly one is returned, the other closed", async () => {
    const clock = new FakeClock();
    const conns: Array<{ address: string; closed: boolean }> = [];
    const pending: Array<() => void> = [];
    const dialer = {
      dial: (t: { address: string }) =>
        new Promise<{ address: string; closed: boolean }>((resolve) =>
          pending.push(() => {
            const conn = { address: t.address, closed: false };
            conns.push(conn);
            resolve(conn);
          })
        ),
      close: (c: { closed: boolean }) => (c.closed = true),
    };
    const result = connect({
      hostname: "multi.test", port: 80, family: 4, clock, dialer,
      resolver: fakeResolver(clock, { 4: v4(2) }), schedule: fixedDelay(250),
    });
    await clock.advance(300);
    assert.equal(pending.length, 2);
    for (const finish of pending) finish(); // both connect before either is observed
    const won = await result;
    assert.equal(conns.length, 2);
    assert.deepEqual(conns.filter((c) => !c.closed), [won.conn]);
    assert.deepEqual(won.attempts.map((a) => a.outcome), ["won", "lost"]);
  });

  it("a timer and a success in the same turn start no new attempt", async () => {
    const t = setup(v4(3), { "192.0.2.1": { connect: 250 } }, { schedule: fixedDelay(250) });
    await t.clock.advance(300);
    assert.equal((await t.result).address, "192.0.2.1");
    assert.deepEqual(t.dialer.dialed, ["192.0.2.1"]);
  });

  it("a connection that completes after the race is over is closed", async () => {
    const clock = new FakeClock();
    let finishLate: (conn: { closed: boolean }) => void = () => {};
    const late = { closed: false };
    const dialer = {
      dial: (t: { address: string }) =>
        t.address === "192.0.2.1"
          ? new Promise<{ closed: boolean }>((resolve) => (finishLate = resolve)) // ignores the abort
          : Promise.resolve({ closed: false }),
      close: (c: { closed: boolean }) => (c.closed = true),
    };
    const events: string[] = [];
    const result = connect({
      hostname: "multi.test", port: 80, family: 4, clock, dialer,
      resolver: fakeResolver(clock, { 4: v4(2) }), onEvent: (e) => events.push(e.type),
    });
    await clock.advance(600);
    assert.equal((await result).address, "192.0.2.2");
    finishLate(late);
    await settle();
    assert.equal(late.closed, true);
    assert.ok(events.includes("late-connection-closed"));
  });
});

describe("failure", () => {
  it("when every address fails: an AggregateError naming each address and why", async () => {
    const t = setup(v4(3), {
      "192.0.2.1": { fail: 5, code: "ECONNREFUSED" },
      "192.0.2.2": { fail: 5, code: "EHOSTUNREACH" },
      "192.0.2.3": { fail: 5, code: "ETIMEDOUT" },
    });
    await t.clock.advance(100);
    const error = await t.result.then(() => assert.fail("should fail"), (e) => e);
    assert.ok(error instanceof AggregateError);
    assert.equal(error.errors.length, 3);
    assert.match(error.message, /multi\.test port 80/);
    assert.match(error.message, /192\.0\.2\.1 port 80: refused/);
    assert.match(error.message, /192\.0\.2\.2 port 80: host unreachable/);
    assert.match(error.message, /192\.0\.2\.3 port 80: timed out/);
    assert.deepEqual(error.errors.map((e: { code: string }) => e.code), ["ECONNREFUSED", "EHOSTUNREACH", "ETIMEDOUT"]);
  });

  it("the overall timeout ends the race with every pending address named as timed out", async () => {
    const t = setup(v4(2), {}, { timeout: 3000 });
    await t.clock.advance(3000);
    const error = await t.result.then(() => assert.fail("should time out"), (e) => e);
    assert.ok(error instanceof AggregateError);
    assert.match(error.message, /timed out after 3000 ms/);
    assert.match(error.message, /192\.0\.2\.1 port 80: timed out/);
    assert.match(error.message, /192\.0\.2\.2 port 80: timed out/);
    assert.ok([...t.dialer.signals.values()].every((s) => s.aborted));
    assert.equal(t.clock.pending, 0, "no timer left behind");
  });

  it("a dialer that throws synchronously counts as a failed attempt", async () => {
    const clock = new FakeClock();
    const result = connect({
      hostname: "192.0.2.1", port: 80, clock,
      dialer: { dial: () => { throw new Error("no sockets today"); }, close: () => {} },
    });
    const error = await result.then(() => assert.fail("should fail"), (e) => e);
    assert.match(error.message, /192\.0\.2\.1 port 80: no sockets today/);
  });

  it("a schedule returning a bad delay stops the race with a RangeError and closes nothing open", async () => {
    const t = setup(v4(3), {}, { schedule: () => NaN });
    await t.clock.advance(10);
    await assert.rejects(t.result, /schedule must return a finite number/);
    assert.ok([...t.dialer.signals.values()].every((s) => s.aborted));
  });
});

describe("abort", () => {
  it("during resolution: rejects with the reason and dials nothing", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const dialer = new FakeDialer(clock, {});
    const result = connect({
      hostname: "slow.test", port: 80, clock, dialer, signal: controller.signal,
      resolver: fakeResolver(clock, { hang: true }),
    });
    await clock.advance(10);
    controller.abort(new Error("user gave up"));
    await assert.rejects(result, /user gave up/);
    assert.deepEqual(dialer.dialed, []);
    assert.equal(clock.pending, 0);
  });

  it("mid-race: every pending attempt is aborted and no connection is left open", async () => {
    const controller = new AbortController();
    const t = setup(v4(2), { "192.0.2.1": { hang: true } }, { signal: controller.signal, schedule: fixedDelay(100) });
    await t.clock.advance(150);
    controller.abort(new Error("stop"));
    await assert.rejects(t.result, /stop/);
    assert.ok([...t.dialer.signals.values()].every((s) => s.aborted));
    assert.equal(t.dialer.open.length, 0);
    assert.equal(t.clock.pending, 0, "no timer left behind");
  });

  it("after the win: the win stands and the connection stays open", async () => {
    const controller = new AbortController();
    const t = setup(v4(1), { "192.0.2.1": { connect: 5 } }, { signal: controller.signal });
    await t.clock.advance(10);
    const won = await t.result;
    controller.abort();
    await settle();
    assert.equal(won.conn.closed, false);
  });
});
