import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import { AddressQueue } from "../../src/race/queue.ts";
import { race, type RaceOptions } from "../../src/race/race.ts";
import { fixedDelay, halving } from "../../src/race/schedule.ts";
import type { ConnectEvent, Target } from "../../src/base/types.ts";
import { FakeClock, settle } from "../helpers/fake_clock.ts";
import { type FakeConn, FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

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

  it("halving(500), the ISC article's schedule: 500 ms, halved at each expiry, 8 attempts within 1 s", async () => {
    const t = setup(v4(12), {}, { schedule: halving(500), maxAttemptsInFlight: 12 });
    await t.clock.advance(2000);
    // Deadlines 500, 250, 125, 62, 31, 15, 7, 3, 1, 0, 0 apart; the race's 10 ms floor spaces the
    // last ones (RFC 8305 §5), which the article's schedule alone would start within 4 ms.
    assert.deepEqual(t.starts(), [0, 500, 750, 875, 937, 968, 983, 993, 1003, 1013, 1023, 1033]);
    assert.ok(t.starts().slice(0, 8).every((ms) => ms < 2 * 500));
  });

  it("late timers do not add up: each start keeps to the schedule's deadline", async () => {
    const t = setup(v4(8), {}, { schedule: halving(500) }, new FakeClock({ lateness: 7 }));
    await t.clock.advance(2000);
    // Every timer (the lookup's too) fires 7 ms late, yet each start stays 7 ms behind its deadline,
    // 7 + 500, 250, 125, 62, 31, 15: the lateness does not add up. The 8th is due 7 ms after the 7th,
    // below the floor: it waits for the floor's own (late) timer.
    assert.deepEqual(t.starts(), [7, 514, 764, 889, 951, 982, 997, 1014]);
  });

  it("the default schedule is the article's halving from RFC 8305's 250 ms, with a 10 ms floor", async () => {
    const t = setup(v4(9), {}, { maxAttemptsInFlight: 9 });
    await t.clock.advance(2000);
    assert.deepEqual(t.starts(), [0, 250, 375, 437, 468, 483, 493, 503, 513]);
    assert.ok(t.starts().slice(0, 8).every((ms) => ms <= 2 * 250 + 3), "8 attempts started within about 2 × 250 ms");
  });

  it("all start within 2 × first only while none fails: a failure restarts the current delay", async () => {
    // 192.0.2.2 fails 120 ms after it starts: 192.0.2.3 starts at once, and the delay after it is
    // 125 ms again (not halved), so the 2 × 250 ms bound no longer holds for the rest.
    const t = setup(v4(8), { "192.0.2.2": { fail: 120 } }, { schedule: halving(250, { min: 10 }) });
    await t.clock.advance(2000);
    assert.deepEqual(t.starts(), [0, 250, 370, 495, 557, 588, 603, 613]);
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

  it("caps attempts in flight: a due attempt waits for a slot, at most until the oldest is 2 s old", async () => {
    const t = setup(v4(4), { "192.0.2.2": { fail: 1500 } }, { schedule: fixedDelay(100), maxAttemptsInFlight: 2 });
    await t.clock.advance(1000);
    assert.deepEqual(t.starts(), [0, 100]);
    await t.clock.advance(600); // 192.0.2.2 fails at 1600: its slot goes to the waiting attempt
    assert.deepEqual(t.starts(), [0, 100, 1600]);
    await t.clock.advance(500); // at 2000 the oldest, 192.0.2.1, has had 2 s: it makes room
    assert.deepEqual(t.starts(), [0, 100, 1600, 2000]);
    assert.equal(t.dialer.signals.get("192.0.2.1")?.aborted, true, "the oldest made room");
    assert.equal(t.dialer.signals.get("192.0.2.3")?.aborted, false);
    const aborted = t.events.flatMap((e) => (e.type === "attempt-aborted" ? [`${e.atMs} ${e.attempt.address}`] : []));
    assert.deepEqual(aborted, ["2000 192.0.2.1"]);
  });
});

describe("a dead address costs one schedule step", () => {
  it("with default settings, 12 silent addresses before a live one: the 13th starts on schedule", async () => {
    const live = "192.0.2.13";
    const t = setup(v4(13), { [live]: { connect: 20 } });
    await t.clock.advance(5_000);
    const won = await Promise.race([t.result, settle().then(() => undefined)]);
    assert.ok(won, "still waiting: the cap held the 13th attempt back");
    assert.equal(won.address, live);
    // defaultSchedule: 250, 125, 62, 31, 15, then the 10 ms floor; no attempt waits for a slot.
    assert.deepEqual(t.starts(), [0, 250, 375, 437, 468, 483, 493, 503, 513, 523, 533, 543, 553]);
    assert.equal(won.ms, 553 + 20);
    assert.ok(!t.events.some((e) => e.type === "attempt-aborted" && /make room/.test(String(e.attempt.error))));
  });
});

describe("the cap never stalls the race", () => {
  it("more silent addresses than the cap, the live one last: it connects seconds later, not minutes", async () => {
    const live = "192.0.2.12";
    const t = setup(v4(12), { [live]: { connect: 20 } }, { schedule: fixedDelay(250), maxAttemptsInFlight: 4 });
    await t.clock.advance(10_000);
    const won = await Promise.race([t.result, settle().then(() => undefined)]);
    assert.ok(won, "still waiting: the cap stalled the race");
    assert.equal(won.address, live);
    // Four start 250 ms apart; each later one takes the slot of the oldest when it turns 2 s old.
    assert.deepEqual(t.starts(), [0, 250, 500, 750, 2000, 2250, 2500, 2750, 4000, 4250, 4500, 4750]);
    assert.equal(won.ms, 4750 + 20);
    assert.deepEqual(won.attempts.map((a) => a.outcome), [...Array(11).fill("aborted"), "won"]);
    for (const a of won.attempts.slice(0, 8)) {
      assert.match(String((a.error as Error).message), /make room .*maxAttemptsInFlight/);
      assert.equal(a.endMs, a.startMs + 2000, `${a.address} made room when it was 2 s old`);
    }
    assert.equal(t.dialer.open.length, 1);
  });

  it("a slow link: an attempt is never aborted to make room before it is 2 s old", async () => {
    // RTT 600 ms, 8 addresses, cap 3, halving from 250 ms: the first connects at 600 ms and wins.
    const scripts = Object.fromEntries(v4(8).map((a) => [a, { connect: 600 }]));
    const t = setup(v4(8), scripts, { schedule: halving(250, { min: 10 }), maxAttemptsInFlight: 3 });
    await t.clock.advance(1000);
    const won = await t.result;
    assert.equal(won.address, "192.0.2.1");
    assert.deepEqual(t.starts(), [0, 250, 375]);
  });

  it("maxAttemptsInFlight 1: each due attempt replaces the one before once it is 2 s old", async () => {
    const t = setup(v4(3), { "192.0.2.3": { connect: 5 } }, { schedule: fixedDelay(100), maxAttemptsInFlight: 1 });
    await t.clock.advance(5000);
    assert.equal((await t.result).address, "192.0.2.3");
    assert.deepEqual(t.starts(), [0, 2000, 4000]);
  });

  it("an attempt aborted to make room that connects anyway is closed, and the race goes on", async () => {
    const clock = new FakeClock();
    const late = { closed: false };
    let finishLate: (conn: { closed: boolean }) => void = () => {};
    const dialer = {
      dial: (t: { address: string }) =>
        t.address === "192.0.2.1"
          ? new Promise<{ closed: boolean }>((resolve) => (finishLate = resolve)) // ignores the abort
          : new Promise<{ closed: boolean }>(() => {}),
      close: (c: { closed: boolean }) => (c.closed = true),
    };
    const events: string[] = [];
    const result = connect({
      hostname: "multi.test",
      port: 80,
      family: 4,
      clock,
      dialer,
      maxAttemptsInFlight: 1,
      timeout: 5000,
      schedule: fixedDelay(100),
      resolver: fakeResolver(clock, { 4: v4(3) }),
      onEvent: (e) => events.push(e.type),
    });
    result.catch(() => {});
    await clock.advance(2050);
    finishLate(late);
    await settle();
    assert.equal(late.closed, true);
    assert.ok(events.includes("late-connection-closed"));
    await clock.advance(5000);
    await assert.rejects(result, /timed out after 5000 ms/);
  });
});

describe("the 10 ms floor holds when timers fire late", () => {
  /** Gaps between consecutive starts. */
  const gaps = (starts: number[]) => starts.slice(1).map((ms, i) => ms - starts[i]);

  it("a timer 900 ms late: the overdue attempts start 10 ms apart, not in one burst", async () => {
    // Timer 0 is the lookup's, timer 1 the first schedule timer: it fires 900 ms late.
    const clock = new FakeClock({ lateness: (_ms, i) => (i === 1 ? 900 : 0) });
    const t = setup(v4(8), {}, { schedule: halving(250, { min: 10 }) }, clock);
    await t.clock.advance(3000);
    // Deadlines 250, 375, 437, 468, 483, 493, 503 have all passed when the timer fires at 1150.
    assert.deepEqual(t.starts(), [0, 1150, 1160, 1170, 1180, 1190, 1200, 1210]);
    assert.ok(gaps(t.starts()).every((gap) => gap >= 10), `gaps ${gaps(t.starts())}`);
  });

  it("uneven lateness: never two starts within 10 ms, and no start before its deadline", async () => {
    const late = [0, 300, 0, 40, 0, 0, 200, 0, 5, 0, 0, 0];
    const clock = new FakeClock({ lateness: (_ms, i) => late[i] ?? 0 });
    const t = setup(v4(8), {}, { schedule: halving(250, { min: 10 }) }, clock);
    await t.clock.advance(3000);
    const starts = t.starts();
    assert.equal(starts.length, 8);
    assert.ok(gaps(starts).every((gap) => gap >= 10), `gaps ${gaps(starts)}`);
    const deadlines = [0, 250, 375, 437, 468, 483, 493, 503];
    starts.forEach((ms, i) => assert.ok(ms >= deadlines[i], `attempt ${i + 1} at ${ms}, before ${deadlines[i]}`));
  });

  it("failures in quick succession: the next attempts still start 10 ms apart", async () => {
    const scripts = Object.fromEntries(v4(4).map((a) => [a, { fail: 1 }]));
    const t = setup(v4(4), scripts, { schedule: fixedDelay(250) });
    await t.clock.advance(100);
    assert.deepEqual(t.starts(), [0, 10, 20, 30]);
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
      hostname: "multi.test",
      port: 80,
      family: 4,
      clock,
      dialer,
      resolver: fakeResolver(clock, { 4: v4(2) }),
      schedule: fixedDelay(250),
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
      hostname: "multi.test",
      port: 80,
      family: 4,
      clock,
      dialer,
      resolver: fakeResolver(clock, { 4: v4(2) }),
      onEvent: (e) => events.push(e.type),
    });
    await clock.advance(600);
    assert.equal((await result).address, "192.0.2.2");
    const told = events.length;
    finishLate(late);
    await settle();
    assert.equal(late.closed, true);
    assert.equal(events.length, told, "no event after the connect settled");
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
      hostname: "192.0.2.1",
      port: 80,
      clock,
      dialer: {
        dial: () => {
          throw new Error("no sockets today");
        },
        close: () => {},
      },
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
      hostname: "slow.test",
      port: 80,
      clock,
      dialer,
      signal: controller.signal,
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

describe("race() itself, hardened", () => {
  /** A race over `addresses` with `dialer`, told through `emit`. */
  function raceOver(clock: FakeClock, dialer: FakeDialer, addresses: string[], extra: Partial<RaceOptions<FakeConn>>) {
    const queue = new AddressQueue(80, { preferredFamily: 4, firstAddressFamilyCount: 1 });
    queue.add(4, addresses);
    queue.end();
    const result = race({
      dialer,
      queue,
      clock,
      schedule: fixedDelay(100),
      maxAttemptsInFlight: 8,
      startedAt: 0,
      emit: () => {},
      ...extra,
    });
    result.catch(() => {});
    return result;
  }
  const settled = <T>(p: Promise<T>) =>
    Promise.race([p.then((value) => ({ value }), (error) => ({ error })), settle()]);

  it("an emit that throws neither hangs the race nor leaks the winner", async () => {
    for (const bad of ["attempt-start", "attempt-won", "attempt-aborted", "timer-expired"]) {
      const clock = new FakeClock();
      const dialer = new FakeDialer(clock, { "192.0.2.2": { connect: 10 } });
      const result = raceOver(clock, dialer, v4(3), {
        emit: (e) => {
          if (e.type === bad) throw new Error(`observer broke on ${bad}`);
        },
      });
      await clock.advance(200);
      const outcome = await settled(result);
      assert.ok(outcome && "value" in outcome, `${bad}: race hung or threw`);
      assert.equal(outcome.value.winner?.conn.address, "192.0.2.2", bad);
      assert.deepEqual(dialer.open.map((c) => c.address), ["192.0.2.2"], bad);
      assert.ok(dialer.signals.get("192.0.2.1")?.aborted, bad);
    }
  });

  it("a schedule that throws is reported like a bad delay: in the result, nothing left open", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "192.0.2.1": { connect: 50 } });
    const broken = new Error("schedule broke");
    const result = raceOver(clock, dialer, v4(2), {
      schedule: () => {
        throw broken;
      },
    });
    await clock.advance(100);
    const outcome = await settled(result);
    assert.ok(outcome && "value" in outcome, `race rejected or hung: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.value.error, broken);
    assert.equal(outcome.value.winner, undefined);
    assert.equal(dialer.signals.get("192.0.2.1")?.aborted, true);
    assert.equal(dialer.open.length, 0);
    assert.equal(clock.pending, 0);
  });

  it("no event once the race has returned, not even for a late connection", async () => {
    const clock = new FakeClock();
    let finishLate: (conn: FakeConn) => void = () => {};
    const dialer = new FakeDialer(clock, { "192.0.2.2": { connect: 5 } });
    const deaf = Object.assign(Object.create(dialer), {
      dial: (t: Target, s: AbortSignal) =>
        t.address === "192.0.2.1" ? new Promise<FakeConn>((resolve) => (finishLate = resolve)) : dialer.dial(t, s),
    });
    const events: ConnectEvent[] = [];
    const result = raceOver(clock, deaf, v4(2), { emit: (e) => events.push(e) });
    await clock.advance(200);
    assert.equal((await result).winner?.conn.address, "192.0.2.2");
    const told = events.length;
    const late = { address: "192.0.2.1", closed: false };
    finishLate(late);
    await settle();
    assert.equal(late.closed, true);
    assert.equal(events.length, told);
  });
});
