/**
 * Property-based tests of connect and its race: random address lists,
 * per-attempt outcomes and delays, schedules, caps, timer lateness, timeouts
 * and aborts at random moments, run through a scripted dialer and the fake
 * clock. Each run checks the invariants the race promises.
 *
 * On a failure it prints the seed; `EYB_PROPERTY_SEED=N` replays it and
 * `EYB_PROPERTY_RUNS=N` changes the number of runs (default 1000).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { connect, type Connected } from "../../src/connect/connect.ts";
import { fixedDelay, halving, MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY, type Schedule } from "../../src/race/schedule.ts";
import type { ConnectEvent, Dialer, Family, Target } from "../../src/base/types.ts";
import { drainMicrotasks, FakeClock } from "../helpers/fake_clock.ts";

/**
 * What dialing one address does. `deaf` dials ignore their abort signal. A
 * silent address fails when the kernel gives up, or never if deaf.
 */
type Script =
  | { kind: "connect"; ms: number; deaf: boolean }
  | { kind: "fail"; ms: number; deaf: boolean }
  | { kind: "silent"; deaf: boolean }
  | { kind: "throw" };

/**
 * The longest an answered address may wait for its attempt: the Resolution Delay, then per
 * address ahead of it the longest delay and the floor, each timer up to 1 s late.
 */
const LONGEST_WAIT = 50 + 1000 + 10 * (MAX_ATTEMPT_DELAY + 1000 + MIN_ATTEMPT_DELAY + 1000);
/** Linux gives up on a connect after about 127 s. */
const KERNEL_GIVES_UP = 127_000;
/** A lookup: its answer after `ms` (never when undefined); a deaf one ignores its abort signal. */
type Lookup = { ms?: number; deaf: boolean };

interface Case {
  addresses: Array<{ family: Family; script: Script }>;
  resolve: { 4: Lookup; 6: Lookup };
  schedule: { kind: "fixed"; ms: number } | { kind: "halving"; first: number; min: number } | {
    kind: "table";
    delays: number[];
  };
  maxAttemptsInFlight: number;
  lateness: number[]; // per timer, in the order they are set
  timeout?: number;
  /** When the caller aborts; -1: the signal has fired before the call. */
  abortAt?: number;
  /** The observer throws on these event types. */
  observerThrowsOn: string[];
}

const ms = (max: number) => fc.integer({ min: 0, max });
/** `value` in about one case of four, else undefined. */
const sometimes = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: value, weight: 1 });
const script: fc.Arbitrary<Script> = fc.oneof(
  fc.record({ kind: fc.constant("connect" as const), ms: ms(1500), deaf: fc.boolean() }),
  fc.record({ kind: fc.constant("fail" as const), ms: ms(1500), deaf: fc.boolean() }),
  fc.record({ kind: fc.constant("silent" as const), deaf: fc.boolean() }),
  fc.record({ kind: fc.constant("throw" as const) }),
);
const lookup: fc.Arbitrary<Lookup> = fc.record({
  ms: fc.oneof({ arbitrary: ms(300), weight: 9 }, { arbitrary: fc.constant(undefined), weight: 1 }),
  deaf: fc.boolean(),
});
const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  addresses: fc.array(fc.record({ family: fc.constantFrom<Family>(4, 6), script }), { minLength: 1, maxLength: 10 }),
  resolve: fc.record({ 4: lookup, 6: lookup }),
  schedule: fc.oneof(
    fc.record({ kind: fc.constant("fixed" as const), ms: ms(600) }),
    fc.record({ kind: fc.constant("halving" as const), first: ms(600), min: ms(20) }),
    fc.record({ kind: fc.constant("table" as const), delays: fc.array(ms(400), { minLength: 1, maxLength: 12 }) }),
  ),
  maxAttemptsInFlight: fc.integer({ min: 1, max: 10 }),
  // Mostly punctual timers, some a little late, a few stalled for up to a second.
  lateness: fc.array(fc.oneof(fc.constant(0), ms(15), ms(1000)), { maxLength: 40 }),
  timeout: sometimes(fc.integer({ min: 1, max: 5000 })),
  abortAt: sometimes(fc.oneof(ms(4000), fc.constant(-1))),
  observerThrowsOn: fc.subarray(["resolved", "attempt-start", "attempt-won", "attempt-failed", "timer-expired"]),
});

function scheduleOf(c: Case["schedule"]): Schedule {
  if (c.kind === "fixed") return fixedDelay(c.ms);
  if (c.kind === "halving") return halving(c.first, { min: c.min });
  return ({ started }) => c.delays[(started - 1) % c.delays.length];
}

/** A connection the scripted dialer made; `closes` counts how often the race closed it. */
interface Conn {
  readonly address: string;
  closes: number;
}

/** Runs one case to the end of the fake network and checks every invariant. */
async function check(c: Case): Promise<void> {
  const clock = new FakeClock({ lateness: (_ms, i) => c.lateness[i] ?? 0 });
  const v4 = c.addresses.flatMap((a, i) => (a.family === 4 ? [`192.0.2.${i + 1}`] : []));
  const v6 = c.addresses.flatMap((a, i) => (a.family === 6 ? [`2001:db8::${i + 1}`] : []));
  const scripts = new Map(
    c.addresses.map((a, i) => [a.family === 4 ? `192.0.2.${i + 1}` : `2001:db8::${i + 1}`, a.script]),
  );
  const conns: Conn[] = [];
  let deafTimers = 0; // timers of deaf dials: the only ones allowed to outlive the connect

  const dialer: Dialer<Conn> = {
    dial(target: Target, signal: AbortSignal): Promise<Conn> {
      const s = scripts.get(target.address)!;
      if (s.kind === "throw") throw new Error("no sockets today");
      return new Promise((resolve, reject) => {
        let cancel = () => {};
        if (!s.deaf) {
          signal.addEventListener("abort", () => {
            cancel();
            reject(signal.reason);
          }, { once: true });
        }
        if (s.kind === "silent" && s.deaf) return;
        if (s.deaf) deafTimers++;
        cancel = clock.setTimer(() => {
          if (s.deaf) deafTimers--;
          if (s.kind !== "connect") return reject(new Error(`${s.kind === "fail" ? "refused" : "timed out"}`));
          const conn = { address: target.address, closes: 0 };
          conns.push(conn);
          resolve(conn);
        }, s.kind === "silent" ? KERNEL_GIVES_UP : s.ms);
      });
    },
    close: (conn) => void conn.closes++,
  };
  const resolver = {
    resolve: (_name: string, family: Family, signal: AbortSignal) =>
      new Promise<string[]>((resolve, reject) => {
        const { ms, deaf } = c.resolve[family];
        if (ms === undefined && deaf) return;
        if (deaf) deafTimers++;
        const cancel = ms === undefined ? () => {} : clock.setTimer(() => {
          if (deaf) deafTimers--;
          resolve(family === 4 ? v4 : v6);
        }, ms);
        if (!deaf) {
          signal.addEventListener("abort", () => {
            cancel();
            reject(signal.reason);
          }, { once: true });
        }
      }),
  };

  const controller = new AbortController();
  const reason = new Error("user abort");
  if (c.abortAt === -1) controller.abort(reason);
  let abortPending = c.abortAt !== undefined && c.abortAt >= 0;
  if (abortPending) {
    clock.setTimer(() => {
      abortPending = false;
      controller.abort(reason);
    }, c.abortAt!);
  }
  const events: ConnectEvent[] = [];
  const late: ConnectEvent[] = [];
  let outcome: { value: Connected<Conn> } | { error: unknown } | undefined;
  connect<Conn>({
    hostname: "prop.test",
    port: 80,
    dialer,
    resolver,
    clock,
    schedule: scheduleOf(c.schedule),
    maxAttemptsInFlight: c.maxAttemptsInFlight,
    timeout: c.timeout,
    signal: controller.signal,
    onEvent: (e) => {
      (outcome ? late : events).push(e);
      if (c.observerThrowsOn.includes(e.type)) throw new Error(`observer broke on ${e.type}`);
    },
  }).then((value) => (outcome = { value }), (error) => (outcome = { error }));

  await clock.runUntil(() => outcome !== undefined, 1e7);
  // The promise settles whenever the fake network does: a timeout or an abort ends any race,
  // and without them every dial and lookup settles but a deaf silent one (or a deaf lookup that never answers).
  const networkSettles = c.timeout !== undefined || c.abortAt !== undefined ||
    (c.addresses.every((a) => a.script.kind !== "silent" || !a.script.deaf) &&
      [c.resolve[4], c.resolve[6]].every((l) => l.ms !== undefined));
  if (networkSettles) assert.ok(outcome, "connect never settled");
  if (!outcome) return;
  const settledAt = clock.now();
  if (c.abortAt === -1) {
    assert.ok("error" in outcome && outcome.error === reason, "a signal fired before the call: not its reason");
    assert.deepEqual(events, [], "a signal fired before the call: something happened");
  }
  // Nothing of the connect's own runs after it settles: only deaf dials' timers (and the test's abort) may be left.
  await drainMicrotasks();
  assert.equal(clock.pending, deafTimers + (abortPending ? 1 : 0), "timers left");
  // Let every late (deaf) connection happen: each must be closed.
  await clock.runUntil(() => false, 1e7);

  assert.deepEqual(late, [], "events after the connect settled");
  const winner = "value" in outcome ? outcome.value.conn : undefined;
  // At most one connection reaches the caller; every other is closed exactly once.
  for (const conn of conns) {
    assert.equal(conn.closes, conn === winner ? 0 : 1, `${conn.address} closed ${conn.closes} times`);
  }
  if (winner) assert.ok(conns.includes(winner), "the winner is not a connection the dialer made");

  const starts = events.flatMap((e) => (e.type === "attempt-start" ? [e.atMs] : []));
  for (let i = 1; i < starts.length; i++) {
    assert.ok(
      starts[i] - starts[i - 1] >= MIN_ATTEMPT_DELAY,
      `starts ${starts[i - 1]} and ${starts[i]}: under the floor`,
    );
  }
  // No start after a winner, and at most one winner.
  const won = events.findIndex((e) => e.type === "attempt-won");
  if (won >= 0) {
    assert.equal(events.slice(won).filter((e) => e.type === "attempt-start").length, 0, "a start after the winner");
    assert.equal(events.filter((e) => e.type === "attempt-won").length, 1);
    assert.ok(winner, "an attempt won but the connect failed");
  }
  // No address waits for a slot (or anything else) while the kernel takes its time on the others:
  // each starts, or the connect ends, within the schedule's worst case after its answer arrived.
  const started = new Map(events.flatMap((e) => (e.type === "attempt-start" ? [[e.attempt.address, e.atMs]] : [])));
  for (const e of events) {
    if (e.type !== "resolved") continue;
    for (const address of e.addresses) {
      const waited = (started.get(address) ?? settledAt) - e.atMs;
      assert.ok(waited <= LONGEST_WAIT, `${address} waited ${waited} ms to start`);
    }
  }
  // An attempt makes room only once it has had 2 s: a slow link's attempts are not killed.
  for (const e of events) {
    if (e.type !== "attempt-aborted" || !/make room/.test(String((e.attempt.error as Error)?.message))) continue;
    assert.ok(e.attempt.endMs! - e.attempt.startMs >= MAX_ATTEMPT_DELAY, `${e.attempt.address} made room too soon`);
  }
  // Never more attempts in flight than the cap.
  let inFlight = 0;
  for (const e of events) {
    if (e.type === "attempt-start") inFlight++;
    else if (e.type.startsWith("attempt-")) inFlight--;
    assert.ok(inFlight <= c.maxAttemptsInFlight, `${inFlight} attempts in flight, cap ${c.maxAttemptsInFlight}`);
  }
  // Every attempt has ended, and the answer agrees with the timeline.
  const attempts = "value" in outcome ? outcome.value.attempts : [];
  assert.ok(attempts.every((a) => a.outcome !== "pending"), "an attempt still pending");
  if (winner) assert.equal(attempts.filter((a) => a.outcome === "won").length, 1);
}

describe("properties of connect's race (fast-check)", () => {
  it("one winner at most, others closed once, the floor, no start after a win, no late event, settles", async () => {
    const seed = Number(process.env.EYB_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const numRuns = Number(process.env.EYB_PROPERTY_RUNS ?? 1000);
    try {
      await fc.assert(fc.asyncProperty(caseArbitrary, check), { seed, numRuns });
    } catch (error) {
      console.error(`property failed with seed ${seed}: replay with EYB_PROPERTY_SEED=${seed}`);
      throw error;
    }
  });
});
