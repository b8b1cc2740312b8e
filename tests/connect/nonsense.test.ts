/**
 * Nonsense from the outside world: dialers, resolvers, observers and
 * schedules that misbehave. Each case must end in a clear TypeError or
 * RangeError naming the field, a clean ConnectError (an AggregateError whose
 * message names each address or family), or a connection: never a crash, a
 * hang or a leak. Every case ends with no fake connection left open and no
 * fake timer pending. (Bad option values are in validate.test.ts.)
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { connect, type ConnectOptions } from "../../src/connect/connect.ts";
import { ConnectError } from "../../src/base/errors.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { ConnectEvent, Dialer, Family, Resolver, Target } from "../../src/base/types.ts";
import { FakeClock, settle } from "../helpers/fake_clock.ts";
import { type FakeConn, FakeDialer, fakeResolver } from "../helpers/fake_dialer.ts";

/** A connection the lab made; `closed` says whether anyone closed it. */
interface Conn {
  readonly address: string;
  closed: boolean;
}

/** A fake clock plus a record of every connection made, to prove nothing stays open. */
class Lab {
  readonly clock = new FakeClock();
  readonly made: Conn[] = [];
  readonly events: ConnectEvent[] = [];
  /** Dials that ignored their signal, to finish after the race is over. */
  readonly late: Array<() => void> = [];

  conn(address: string): Conn {
    const conn = { address, closed: false };
    this.made.push(conn);
    return conn;
  }

  get open(): Conn[] {
    return this.made.filter((c) => !c.closed);
  }

  /** A dialer whose dial is `dial` and whose close marks the connection closed. */
  dialer(dial: (target: Target, signal: AbortSignal) => unknown): Dialer<Conn> {
    return { dial: dial as Dialer<Conn>["dial"], close: (c) => void (c.closed = true) };
  }

  /** A dial that never settles and ignores its signal; `late` can still connect it. */
  readonly deaf = (target: Target): Promise<Conn> =>
    new Promise((resolve) => this.late.push(() => resolve(this.conn(target.address))));

  /** A resolver answering `answers[family]` (anything at all) at once. */
  resolver(answers: Partial<Record<Family, unknown>>): Resolver {
    return { resolve: (_name, family) => Promise.resolve(answers[family] as string[]) };
  }
}

type Outcome = { value: { conn: Conn; address: string } } | { error: unknown };

/**
 * Runs connect with `options` on the lab's clock, advancing it by up to
 * `ms` in steps until the promise settles.
 */
async function run(lab: Lab, options: Partial<ConnectOptions<Conn>>, ms = 10_000): Promise<Outcome> {
  let outcome: Outcome | undefined;
  connect<Conn>({
    hostname: "multi.test",
    port: 80,
    clock: lab.clock,
    schedule: fixedDelay(100),
    onEvent: (e) => lab.events.push(e),
    ...options,
  } as ConnectOptions<Conn>).then((value) => (outcome = { value }), (error) => (outcome = { error }));
  for (let t = 0; t < ms && !outcome; t += 50) await lab.clock.advance(50);
  await settle();
  assert.ok(outcome, `connect still pending after ${ms} ms`);
  return outcome;
}

/** Asserts a clean ConnectError whose message matches every pattern. */
function assertConnectError(outcome: Outcome, ...patterns: RegExp[]): ConnectError {
  assert.ok("error" in outcome, "expected a failure, got a connection");
  const error = outcome.error as ConnectError;
  assert.ok(error instanceof ConnectError, `not a ConnectError: ${String(error)}`);
  assert.ok(error instanceof AggregateError);
  assert.ok(error.errors.length > 0, "no per-address errors");
  for (const pattern of patterns) assert.match(error.message, pattern);
  // No line of the message may be empty or say nothing after the colon.
  for (const line of error.message.split("\n").slice(1)) {
    assert.match(line, /^ {2}\S.*: \S/, `vague line ${JSON.stringify(line)}`);
  }
  return error;
}

/** Nothing open, no timer pending: the end of every case. */
async function assertClean(lab: Lab): Promise<void> {
  for (const finish of lab.late.splice(0)) finish(); // late connections must be closed by the race
  await settle();
  assert.deepEqual(lab.open.map((c) => c.address), [], "connections left open");
  assert.equal(lab.clock.pending, 0, "timers left pending");
}

const v4 = (...n: number[]) => n.map((i) => `192.0.2.${i}`);

/** Each case: its name, and a body that runs it and checks its outcome. */
type Case = [string, (lab: Lab) => Promise<void>];

/** A dialer rejecting with `value`: the race names the address and a readable reason. */
const rejectsWith = (
  value: unknown,
  reason: RegExp,
  label = typeof value === "string" ? JSON.stringify(value) : String(value),
): Case => [
  `dial rejects with ${label}`,
  async (lab) => {
    const outcome = await run(lab, { hostname: "192.0.2.1", dialer: lab.dialer(() => Promise.reject(value)) });
    assertConnectError(outcome, new RegExp(`192\\.0\\.2\\.1 port 80: ${reason.source}`));
  },
];

/** A resolver answering `answer` for one family; the error names the record and why. */
const badAnswer = (what: string, family: Family, answer: unknown, reason: RegExp): Case => [
  `resolver answers ${what}`,
  async (lab) => {
    const dialed: string[] = [];
    const outcome = await run(lab, {
      family,
      resolver: lab.resolver({ [family]: answer }),
      dialer: lab.dialer((t) => (dialed.push(t.address), Promise.resolve(lab.conn(t.address)))),
    });
    const record = family === 6 ? "IPv6 \\(AAAA\\)" : "IPv4 \\(A\\)";
    const error = assertConnectError(outcome, new RegExp(`multi\\.test ${record}: ${reason.source}`));
    assert.equal(error.errors[0].name, "ResolveError");
    assert.ok(error.errors[0].cause instanceof TypeError, "the cause is a TypeError");
    assert.deepEqual(dialed, [], "nothing dialled");
  },
];

/** A resolver failing with `value` in both families: both are named. */
const resolverFails = (what: string, make: () => Promise<string[]>, reason: RegExp): Case => [
  `resolver ${what}`,
  async (lab) => {
    const outcome = await run(lab, { resolver: { resolve: make }, dialer: lab.dialer(() => assert.fail("dialled")) });
    assertConnectError(
      outcome,
      new RegExp(`multi\\.test IPv6 \\(AAAA\\): ${reason.source}`),
      new RegExp(`multi\\.test IPv4 \\(A\\): ${reason.source}`),
    );
  },
];

/** A schedule returning `value`: a RangeError naming schedule, and the started attempt aborted. */
const badSchedule = (value: unknown): Case => [
  `schedule returns ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
  async (lab) => {
    const dialer = new FakeDialer(lab.clock, {}); // every dial hangs until aborted
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      dialer: dialer as unknown as Dialer<Conn>,
      schedule: () => value as number,
    });
    assert.ok("error" in outcome);
    assert.ok(outcome.error instanceof RangeError, String(outcome.error));
    assert.match((outcome.error as Error).message, /^schedule must return a finite number ≥ 0, got /);
    assert.deepEqual(dialer.dialed, ["192.0.2.1"], "only the first attempt started");
    assert.equal(dialer.signals.get("192.0.2.1")?.aborted, true, "and it was aborted");
    assert.deepEqual(dialer.open, []);
  },
];

const cases: Case[] = [
  // --- dialers
  ["dial throws synchronously", async (lab) => {
    const outcome = await run(lab, {
      hostname: "192.0.2.1",
      dialer: lab.dialer(() => {
        throw new TypeError("socket() failed");
      }),
    });
    assertConnectError(outcome, /192\.0\.2\.1 port 80: socket\(\) failed/);
  }],
  ["dial throws a string synchronously", async (lab) => {
    const outcome = await run(lab, {
      hostname: "192.0.2.1",
      dialer: lab.dialer(() => {
        throw "out of sockets";
      }),
    });
    assertConnectError(outcome, /192\.0\.2\.1 port 80: out of sockets/);
  }],
  rejectsWith("nope", /nope/),
  rejectsWith(undefined, /undefined/),
  rejectsWith(null, /null/),
  rejectsWith(42, /42/),
  rejectsWith(Symbol("odd"), /Symbol\(odd\)/),
  rejectsWith({ code: "ECONNREFUSED" }, /refused/, "a plain object with a code"),
  rejectsWith(new Error(""), /Error/, "an Error with an empty message"),
  ["dial rejects with an object that has no prototype (String() of it throws)", async (lab) => {
    const outcome = await run(lab, {
      hostname: "192.0.2.1",
      dialer: lab.dialer(() => Promise.reject(Object.create(null))),
    });
    assertConnectError(outcome, /192\.0\.2\.1 port 80: an error that cannot be printed/);
  }],
  ["dial resolves with undefined: a failed attempt with a TypeError", async (lab) => {
    const outcome = await run(lab, { hostname: "192.0.2.1", dialer: lab.dialer(() => Promise.resolve(undefined)) });
    const error = assertConnectError(outcome, /192\.0\.2\.1 port 80: dialer\.dial resolved with undefined/);
    assert.ok((error.errors[0] as Error).cause instanceof TypeError);
  }],
  ["dial resolves with null: a failed attempt, the next address is tried", async (lab) => {
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      dialer: lab.dialer((t) => Promise.resolve(t.address === "192.0.2.1" ? null : lab.conn(t.address))),
    });
    assert.ok("value" in outcome);
    assert.equal(outcome.value.address, "192.0.2.2");
    const failed = lab.events.find((e) => e.type === "attempt-failed");
    assert.ok(failed?.type === "attempt-failed" && failed.error instanceof TypeError);
    assert.match((failed.error as Error).message, /^dialer\.dial resolved with null, not a connection$/);
    outcome.value.conn.closed = true; // the caller's to close
  }],
  ["dial returns a plain value, not a promise: taken as the connection", async (lab) => {
    const outcome = await run(lab, { hostname: "192.0.2.1", dialer: lab.dialer((t) => lab.conn(t.address)) });
    assert.ok("value" in outcome);
    assert.equal(outcome.value.conn.address, "192.0.2.1");
    outcome.value.conn.closed = true;
  }],
  ["dial returns undefined synchronously: a failed attempt", async (lab) => {
    const outcome = await run(lab, { hostname: "192.0.2.1", dialer: lab.dialer(() => undefined) });
    assertConnectError(outcome, /192\.0\.2\.1 port 80: dialer\.dial resolved with undefined/);
  }],
  ["dial never settles and ignores its signal: timeout ends it, the late connection is closed", async (lab) => {
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      dialer: lab.dialer(lab.deaf),
      timeout: 1000,
    });
    assertConnectError(
      outcome,
      /^timed out after 1000 ms to multi\.test port 80/,
      /192\.0\.2\.1 port 80: timed out/,
      /192\.0\.2\.2 port 80: timed out/,
    );
    assert.equal(lab.late.length, 2);
    const told = lab.events.length;
    await assertClean(lab);
    assert.equal(lab.made.length, 2, "both late connections were made (and closed: assertClean)");
    assert.equal(lab.events.length, told, "no event after the connect settled");
  }],
  ["dial never settles and ignores its signal: a user abort ends it with the reason", async (lab) => {
    const controller = new AbortController();
    const reason = new Error("user gave up");
    lab.clock.setTimer(() => controller.abort(reason), 300);
    const outcome = await run(lab, { hostname: "192.0.2.1", dialer: lab.dialer(lab.deaf), signal: controller.signal });
    assert.ok("error" in outcome);
    assert.equal(outcome.error, reason);
  }],
  ["dialer.close throws, for a loser that connected in the same turn", async (lab) => {
    const finishers: Array<() => void> = [];
    const dialer: Dialer<Conn> = {
      dial: (t) => new Promise((resolve) => finishers.push(() => resolve(lab.conn(t.address)))),
      close: (c) => {
        c.closed = true;
        throw new Error("close failed");
      },
    };
    let outcome: Outcome | undefined;
    connect({
      hostname: "multi.test",
      port: 80,
      family: 4,
      clock: lab.clock,
      dialer,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      schedule: fixedDelay(100),
    })
      .then((value) => (outcome = { value }), (error) => (outcome = { error }));
    await lab.clock.advance(150);
    for (const finish of finishers) finish(); // both connect before either is observed
    await settle();
    assert.ok(outcome && "value" in outcome);
    assert.equal(lab.open.length, 1, "only the winner is open");
    assert.equal(lab.open[0], outcome.value.conn);
    outcome.value.conn.closed = true;
  }],
  ["dialer.close throws, for a late connection after a timeout", async (lab) => {
    const dialer: Dialer<Conn> = {
      dial: lab.deaf,
      close: (c) => {
        c.closed = true;
        throw "close failed";
      },
    };
    const outcome = await run(lab, { hostname: "192.0.2.1", dialer, timeout: 500 });
    assertConnectError(outcome, /timed out after 500 ms/, /192\.0\.2\.1 port 80: timed out/);
  }],
  ["dial rejects with an odd value after the abort: ignored, the abort reason stands", async (lab) => {
    const controller = new AbortController();
    lab.clock.setTimer(() => controller.abort("stop"), 100);
    const outcome = await run(lab, {
      hostname: "192.0.2.1",
      signal: controller.signal,
      dialer: lab.dialer((_t, signal) =>
        new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(undefined)))
      ),
    });
    assert.ok("error" in outcome);
    assert.equal(outcome.error, "stop");
  }],

  // --- resolvers
  badAnswer("a string, not an array", 4, "192.0.2.1", /expected an array of IPv4 addresses, got string/),
  badAnswer("undefined", 4, undefined, /expected an array of IPv4 addresses, got undefined/),
  badAnswer("null", 6, null, /expected an array of IPv6 addresses/),
  badAnswer("an object", 4, { 0: "192.0.2.1", length: 1 }, /expected an array of IPv4 addresses/),
  badAnswer("numbers", 4, [3221225985], /not an IPv4 address: 3221225985/),
  badAnswer("a hostname", 4, ["example.com"], /not an IPv4 address: "example\.com"/),
  badAnswer("IPv4 in the AAAA answer", 6, ["192.0.2.1"], /not an IPv6 address: "192\.0\.2\.1"/),
  badAnswer("IPv6 in the A answer", 4, ["2001:db8::1"], /not an IPv4 address: "2001:db8::1"/),
  badAnswer("an IPv6 zone", 6, ["fe80::1%eth0"], /not an IPv6 address: "fe80::1%eth0"/),
  badAnswer("a hole in the array", 4, ["192.0.2.1", undefined], /not an IPv4 address: undefined/),
  badAnswer("an address with a port", 4, ["192.0.2.1:80"], /not an IPv4 address: "192\.0\.2\.1:80"/),
  ["resolver answers duplicates: each address dialled once", async (lab) => {
    const dialer = new FakeDialer(lab.clock, {});
    const outcome = await run(lab, {
      resolver: lab.resolver({
        6: ["2001:db8::1", "2001:DB8::1", "2001:db8:0:0:0:0:0:1", "[2001:db8::1]"], // one address, four spellings
        4: ["192.0.2.1", "192.0.2.1", "192.0.2.2"],
      }),
      dialer: dialer as unknown as Dialer<Conn>,
      timeout: 2000,
    });
    assertConnectError(outcome, /timed out/);
    assert.deepEqual(dialer.dialed, ["2001:db8::1", "192.0.2.1", "192.0.2.2"]);
  }],
  ["resolver answers nothing in both families: no address to try", async (lab) => {
    const outcome = await run(lab, {
      resolver: lab.resolver({ 4: [], 6: [] }),
      dialer: lab.dialer(() => assert.fail()),
    });
    assert.ok("error" in outcome && outcome.error instanceof ConnectError);
    assert.match((outcome.error as Error).message, /could not connect to multi\.test port 80:\n {2}no address to try/);
  }],
  ["resolver answers garbage in one family: the other still connects", async (lab) => {
    const outcome = await run(lab, {
      resolver: lab.resolver({ 6: "nonsense", 4: v4(1) }),
      dialer: lab.dialer((t) => Promise.resolve(lab.conn(t.address))),
    });
    assert.ok("value" in outcome);
    assert.equal(outcome.value.address, "192.0.2.1");
    assert.ok(lab.events.some((e) => e.type === "resolve-failed" && e.family === 6));
    outcome.value.conn.closed = true;
  }],
  ["resolver returns a plain array, not a promise: accepted", async (lab) => {
    const outcome = await run(lab, {
      family: 4,
      resolver: { resolve: () => v4(1) as unknown as Promise<string[]> },
      dialer: lab.dialer((t) => Promise.resolve(lab.conn(t.address))),
    });
    assert.ok("value" in outcome);
    outcome.value.conn.closed = true;
  }],
  resolverFails("throws synchronously", () => {
    throw new Error("resolver exploded");
  }, /resolver exploded/),
  resolverFails("rejects with a string", () => Promise.reject("SERVFAIL"), /SERVFAIL/),
  resolverFails("rejects with undefined", () => Promise.reject(undefined), /undefined/),
  resolverFails("rejects with a number", () => Promise.reject(3), /3/),
  resolverFails(
    "rejects with an object that has no prototype",
    () => Promise.reject(Object.create(null)),
    /an error that cannot be printed/,
  ),
  ["resolver never settles and ignores its signal: timeout names both families", async (lab) => {
    const outcome = await run(lab, {
      resolver: { resolve: () => new Promise(() => {}) },
      dialer: lab.dialer(() => assert.fail("dialled")),
      timeout: 700,
    });
    assertConnectError(
      outcome,
      /^timed out after 700 ms/,
      /multi\.test IPv6 \(AAAA\): timed out/,
      /multi\.test IPv4 \(A\): timed out/,
    );
  }],
  ["resolver never settles, user abort: the reason, nothing dialled", async (lab) => {
    const controller = new AbortController();
    lab.clock.setTimer(() => controller.abort(42), 200);
    const outcome = await run(lab, {
      resolver: { resolve: () => new Promise(() => {}) },
      dialer: lab.dialer(() => assert.fail("dialled")),
      signal: controller.signal,
    });
    assert.ok("error" in outcome);
    assert.equal(outcome.error, 42);
  }],

  // --- observers
  ["onEvent throws on every event: ignored, the connect still works", async (lab) => {
    let calls = 0;
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      dialer: lab.dialer((t) =>
        t.address === "192.0.2.1" ? Promise.reject(new Error("refused")) : Promise.resolve(lab.conn(t.address))
      ),
      onEvent: () => {
        calls++;
        throw new Error("observer broke");
      },
    });
    assert.ok("value" in outcome);
    assert.equal(outcome.value.address, "192.0.2.2");
    assert.ok(calls >= 4, `onEvent called ${calls} times`);
    outcome.value.conn.closed = true;
  }],
  ["onEvent throws a non-Error and aborts the connect from inside: the reason, all closed", async (lab) => {
    const controller = new AbortController();
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      dialer: new FakeDialer(lab.clock, {}) as unknown as Dialer<Conn>,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "attempt-start") controller.abort("from the observer");
        throw undefined;
      },
    });
    assert.ok("error" in outcome);
    assert.equal(outcome.error, "from the observer");
  }],

  // --- schedules
  badSchedule(-1),
  badSchedule(NaN),
  badSchedule(Infinity),
  badSchedule("250"),
  badSchedule(undefined),
  ["schedule throws: its error, the started attempt aborted", async (lab) => {
    const dialer = new FakeDialer(lab.clock, {});
    const boom = new Error("schedule broke");
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2) }),
      dialer: dialer as unknown as Dialer<Conn>,
      schedule: () => {
        throw boom;
      },
    });
    assert.ok("error" in outcome);
    assert.equal(outcome.error, boom);
    assert.equal(dialer.signals.get("192.0.2.1")?.aborted, true);
  }],
  ["schedule turns bad on its second call: RangeError, both attempts aborted, late connection closed", async (lab) => {
    let calls = 0;
    const outcome = await run(lab, {
      family: 4,
      resolver: lab.resolver({ 4: v4(1, 2, 3) }),
      dialer: lab.dialer(lab.deaf),
      schedule: () => (calls++ === 0 ? 100 : -5),
    });
    assert.ok("error" in outcome && outcome.error instanceof RangeError);
    assert.match((outcome.error as Error).message, /got -5/);
    assert.equal(lab.late.length, 2, "two attempts had started");
  }],
];

describe("nonsense from dialers, resolvers, observers and schedules", () => {
  for (const [name, body] of cases) {
    it(name, async () => {
      const lab = new Lab();
      await body(lab);
      await assertClean(lab);
    });
  }
});

describe("no listener per attempt", () => {
  // Bun's node:tls once added a listener per attempt (oven-sh/bun #42280): a long-lived
  // signal used for many connects must not collect listeners.
  it("a long-lived user signal has no abort listener left after many connects", async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, {
      "192.0.2.1": { fail: 5 },
      "192.0.2.2": { connect: 20 },
      "2001:db8::1": { fail: 1 },
    });
    let during = 0;
    for (let i = 0; i < 30; i++) {
      // Wins, failures and timeouts in turn; each must give its listener back.
      const addresses = i % 3 === 0 ? v4(1, 2) : i % 3 === 1 ? v4(1) : v4(3);
      const pending = connect({
        hostname: "multi.test",
        port: 80,
        clock,
        dialer,
        signal,
        timeout: 1000,
        schedule: fixedDelay(10),
        resolver: fakeResolver(clock, { 4: addresses, 6: ["2001:db8::1"] }),
      });
      pending.catch(() => {});
      during = Math.max(during, getEventListeners(signal, "abort").length);
      await clock.advance(1000);
      await pending.then((won) => dialer.close(won.conn as FakeConn), () => {});
    }
    assert.equal(during, 1, "one listener while a connect runs");
    assert.equal(getEventListeners(signal, "abort").length, 0, "listeners left on the user's signal");
    assert.deepEqual(dialer.open, []);
    assert.equal(clock.pending, 0);
  });
});
