import { describe, it } from "node:test";
import { HISTORY_WAIT } from "../../src/history/in_race.ts";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import {
  type AddressOutcome,
  type History,
  type HostHistory,
  MemoryHistory,
  outcomesOf,
  updateStoredHost,
} from "../../src/history/history.ts";
import { historyFamily, historyRank, historySchedule, rttAttemptDelay } from "../../src/history/in_race.ts";
import { fixedDelay, MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY } from "../../src/race/schedule.ts";
import type { ConnectEvent } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

const V6 = "2001:db8::1";
const V4 = "192.0.2.1";
/** IPv6 drops SYNs, IPv4 answers in 20 ms: the failure Happy Eyeballs exists for. */
const BLACKHOLED_V6: Record<string, Script> = { [V6]: { hang: true }, [V4]: { connect: 20 } };

/** One connect to dual.test on `clock`, both families answering at once. */
function dualConnect(clock: FakeClock, history: History | false, scripts: Record<string, Script>, options = {}) {
  const dialer = new FakeDialer(clock, scripts);
  const events: ConnectEvent[] = [];
  const result = connect({
    hostname: "Dual.Test.",
    port: 443,
    clock,
    dialer,
    resolver: fakeResolver(clock, { 6: [V6], 4: [V4] }),
    history,
    onEvent: (e) => events.push(e),
    ...options,
  });
  result.catch(() => {});
  return { dialer, events, result };
}

describe("history store", () => {
  it("smooths RTTs as RFC 6298 does", () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    history.record("h.test", 80, [{ address: V4, state: "connected", rttMs: 40 }]);
    let known = history.lookup("h.test", 80)!.addresses[0];
    assert.equal(known.srttMs, 40);
    assert.equal(known.rttvarMs, 20);
    history.record("h.test", 80, [{ address: V4, state: "connected", rttMs: 80 }]);
    known = history.lookup("h.test", 80)!.addresses[0];
    assert.equal(known.rttvarMs, 0.75 * 20 + 0.25 * 40); // from the old SRTT
    assert.equal(known.srttMs, 0.875 * 40 + 0.125 * 80);
  });

  it("a failure keeps the RTT learned but changes the state; bad RTTs are ignored", () => {
    let stored = updateStoredHost(undefined, [{ address: V4, state: "connected", rttMs: 10 }], 0, 1000);
    stored = updateStoredHost(stored, [{ address: V4, state: "failed" }], 5, 1000);
    stored = updateStoredHost(stored, [{ address: V6, state: "lost", rttMs: NaN }], 6, 1000);
    stored = updateStoredHost(stored, [{ address: "192.0.2.9", state: "lost", rttMs: -3 }], 6, 1000);
    assert.deepEqual(stored.addresses.map((a) => [a.address, a.state, a.srttMs]), [
      [V4, "failed", 10],
      [V6, "lost", undefined],
      ["192.0.2.9", "lost", undefined],
    ]);
  });

  it("forgets a host once its TTL, counted from the first outcome, has passed", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock, ttl: 60_000 });
    history.record("h.test", 80, [{ address: V6, state: "lost" }]);
    await clock.advance(59_000);
    history.record("h.test", 80, [{ address: V4, state: "connected", rttMs: 5 }]); // does not extend it
    assert.equal(history.lookup("h.test", 80)?.addresses.length, 2);
    assert.equal(history.lookup("h.test", 80)?.addresses[0].ageMs, 59_000);
    await clock.advance(1_000);
    assert.equal(history.lookup("h.test", 80), undefined);
    assert.equal(history.size, 0);
  });

  it("keeps at most maxHosts host and port pairs, dropping the least recently used", () => {
    const history = new MemoryHistory({ clock: new FakeClock(), maxHosts: 2 });
    const won: AddressOutcome[] = [{ address: V4, state: "connected", rttMs: 1 }];
    history.record("a.test", 80, won);
    history.record("b.test", 80, won);
    history.record("a.test", 80, won); // a is now the most recent
    history.record("a.test", 443, won); // a different port is a different entry
    assert.equal(history.size, 2);
    assert.equal(history.lookup("b.test", 80), undefined);
    assert.ok(history.lookup("a.test", 80));
    assert.ok(history.lookup("a.test", 443));
  });

  it("keeps at most 32 addresses per host, the most recent", () => {
    const history = new MemoryHistory({ clock: new FakeClock() });
    const outcomes = Array.from(
      { length: 40 },
      (_, i): AddressOutcome => ({ address: `192.0.2.${i}`, state: "failed" }),
    );
    history.record("many.test", 80, outcomes);
    const addresses = history.lookup("many.test", 80)!.addresses.map((a) => a.address);
    assert.equal(addresses.length, 32);
    assert.equal(addresses[0], "192.0.2.8");
  });

  it("rejects bad options, naming the field", () => {
    assert.throws(() => new MemoryHistory({ ttl: 0 }), /MemoryHistory: ttl must be a finite number > 0, got 0/);
    assert.throws(() => new MemoryHistory({ ttl: "1m" as unknown as number }), TypeError);
    assert.throws(() => new MemoryHistory({ maxHosts: 1.5 }), /MemoryHistory: maxHosts must be an integer ≥ 1/);
    assert.throws(() => new MemoryHistory({ clock: {} as FakeClock }), /MemoryHistory: clock.now must be a function/);
    assert.throws(() => new MemoryHistory(null as unknown as object), /MemoryHistory options must be an object/);
  });

  it("turns a race's attempts into outcomes: winner and late connections with RTTs, aborted losers lost", () => {
    const attempts = [
      { index: 0, address: V6, family: 6 as const, port: 80, startMs: 0, endMs: 300, outcome: "aborted" as const },
      { index: 1, address: V4, family: 4 as const, port: 80, startMs: 250, endMs: 270, outcome: "won" as const },
      {
        index: 2,
        address: "192.0.2.2",
        family: 4 as const,
        port: 80,
        startMs: 260,
        endMs: 271,
        outcome: "lost" as const,
      },
      {
        index: 3,
        address: "192.0.2.3",
        family: 4 as const,
        port: 80,
        startMs: 261,
        endMs: 262,
        outcome: "failed" as const,
      },
    ];
    assert.deepEqual(outcomesOf(attempts, false), [
      { address: V6, state: "lost" },
      { address: V4, state: "connected", rttMs: 20 },
      { address: "192.0.2.2", state: "lost", rttMs: 11 },
      { address: "192.0.2.3", state: "failed" },
    ]);
    // Cut short by the caller or the timeout: an attempt still connecting says nothing.
    assert.deepEqual(outcomesOf([attempts[0], attempts[3]], true), [{ address: "192.0.2.3", state: "failed" }]);
  });
});

describe("history policy", () => {
  const known: HostHistory = {
    addresses: [
      { address: "2001:db8::9", state: "failed", ageMs: 1 },
      { address: "192.0.2.7", state: "lost", ageMs: 1 },
      { address: "192.0.2.8", state: "connected", srttMs: 30, rttvarMs: 1, ageMs: 1 },
      { address: V6, state: "connected", srttMs: 10, rttvarMs: 1, ageMs: 1 },
    ],
  };

  it("ranks connected (fastest first), then unknown, then lost, then failed; never drops one", () => {
    const addresses = ["2001:db8::9", "192.0.2.7", "192.0.2.100", "192.0.2.8", "192.0.2.101", V6];
    assert.deepEqual([...addresses].sort(historyRank(known)), [
      V6,
      "192.0.2.8",
      "192.0.2.100",
      "192.0.2.101",
      "192.0.2.7",
      "2001:db8::9",
    ]);
  });

  it("lets the family of the best connected address lead", () => {
    assert.equal(historyFamily(known), 6);
    assert.equal(
      historyFamily({ addresses: [{ address: V4, state: "connected", srttMs: 1, rttvarMs: 0, ageMs: 0 }] }),
      4,
    );
    assert.equal(historyFamily({ addresses: [{ address: V6, state: "failed", ageMs: 0 }] }), undefined);
  });

  it("delay = SRTT + max(25, 4·RTTVAR), clamped to 10 ms .. 2 s", () => {
    const delay = (srttMs: number, rttvarMs: number) =>
      rttAttemptDelay({ address: V4, state: "connected", srttMs, rttvarMs, ageMs: 0 });
    assert.equal(delay(20, 10), 60);
    assert.equal(delay(20, 1), 45);
    assert.equal(delay(0, 0), 25);
    assert.equal(delay(1900, 50), MAX_ATTEMPT_DELAY);
    assert.equal(delay(Infinity, 0), undefined);
    assert.equal(rttAttemptDelay({ address: V4, state: "failed", ageMs: 0 }), undefined);
    assert.ok(delay(0, 0)! >= MIN_ATTEMPT_DELAY);
  });

  it("changes the delay only after an address with an RTT that did not fail last", () => {
    let last: string | undefined;
    const changes: unknown[] = [];
    const schedule = historySchedule(fixedDelay(250), known, () => last, (c) => changes.push(c));
    last = V6;
    assert.equal(schedule({ started: 1, expiries: 0 }), 35);
    last = "2001:db8::9"; // failed: the schedule's
    assert.equal(schedule({ started: 2, expiries: 1 }), 250);
    last = "192.0.2.100"; // unknown: the schedule's
    assert.equal(schedule({ started: 3, expiries: 2 }), 250);
    assert.deepEqual(changes, [{ address: V6, delayMs: 35, scheduleMs: 250, srttMs: 10, rttvarMs: 1 }]);
  });
});

describe("history in connect", () => {
  it("IPv6 blackholed: the second connect goes straight to IPv4 without the Resolution Delay, one attempt", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    const first = dualConnect(clock, history, BLACKHOLED_V6, { schedule: fixedDelay(250) });
    await clock.advance(300);
    assert.equal((await first.result).address, V4);
    assert.deepEqual(first.dialer.dialed, [V6, V4]);
    const learned = history.lookup("dual.test", 443)!; // lower case, no trailing dot
    assert.deepEqual(learned.addresses.map((a) => [a.address, a.state, a.srttMs]), [[V6, "lost", undefined], [
      V4,
      "connected",
      20,
    ]]);

    // The AAAA answer comes 40 ms after the A one: without history IPv4 would wait for it.
    const dialer = new FakeDialer(clock, BLACKHOLED_V6);
    const events: ConnectEvent[] = [];
    const second = connect({
      hostname: "dual.test",
      port: 443,
      clock,
      dialer,
      history,
      schedule: fixedDelay(250),
      resolver: fakeResolver(clock, { 6: [V6], 4: [V4], delay6: 40 }),
      onEvent: (e) => events.push(e),
    });
    const t0 = clock.now();
    await clock.advance(100);
    const won = await second;
    assert.equal(won.address, V4);
    assert.equal(won.ms, 20); // no Resolution Delay, no wait
    assert.equal(clock.now() - t0, 100);
    assert.deepEqual(dialer.dialed, [V4]); // one SYN
    const order = events.find((e) => e.type === "history-order");
    assert.ok(order && order.type === "history-order");
    assert.equal(order.preferredFamily, 4);
    assert.deepEqual(order.addresses.map((a) => a.address), [V4, V6]);
    const delay = events.find((e) => e.type === "history-delay");
    assert.ok(delay && delay.type === "history-delay");
    assert.deepEqual([delay.address, delay.delayMs, delay.scheduleMs], [V4, 20 + 40, 250]);
  });

  it("a known-dead address is still tried when everything else fails", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    history.record("dual.test", 443, [{ address: V6, state: "failed" }, { address: V4, state: "connected", rttMs: 5 }]);
    const t = dualConnect(clock, history, { [V4]: { fail: 1 }, [V6]: { connect: 5 } });
    await clock.advance(100);
    assert.equal((await t.result).address, V6);
    assert.deepEqual(t.dialer.dialed, [V4, V6]);
    assert.deepEqual(history.lookup("dual.test", 443)!.addresses.map((a) => [a.address, a.state]), [
      [V4, "failed"],
      [V6, "connected"],
    ]);
  });

  it("the recovery case: once the entry expires IPv6 leads again", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock, ttl: 60_000 });
    const first = dualConnect(clock, history, BLACKHOLED_V6, { schedule: fixedDelay(250) });
    await clock.advance(300);
    await first.result;
    await clock.advance(30_000);
    const second = dualConnect(clock, history, { [V6]: { connect: 10 }, [V4]: { connect: 20 } });
    await clock.advance(100);
    assert.equal((await second.result).address, V4); // IPv6 came back, but is not tried yet
    await clock.advance(30_000);
    const third = dualConnect(clock, history, { [V6]: { connect: 10 }, [V4]: { connect: 20 } });
    await clock.advance(100);
    assert.equal((await third.result).address, V6);
    assert.equal(third.events.some((e) => e.type.startsWith("history-")), false);
  });

  it("history: false learns nothing and changes nothing; the default store is not used on an injected clock", async () => {
    const clock = new FakeClock();
    for (const history of [false, undefined] as const) {
      for (let i = 0; i < 2; i++) {
        const t = dualConnect(clock, history as false, BLACKHOLED_V6, { schedule: fixedDelay(250) });
        await clock.advance(300);
        assert.equal((await t.result).address, V4);
        assert.deepEqual(t.dialer.dialed, [V6, V4]);
        assert.equal(t.events.some((e) => e.type.startsWith("history-")), false);
      }
    }
  });

  it("IP literals neither ask nor teach history", async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const history: History = { lookup: () => void calls.push("lookup"), record: () => void calls.push("record") };
    const dialer = new FakeDialer(clock, { [V4]: { connect: 1 } });
    const result = connect({ hostname: V4, port: 80, clock, dialer, history });
    await clock.advance(5);
    await result;
    assert.deepEqual(calls, []);
  });

  it("an async store is awaited for lookups; a throwing or rejecting store is ignored", async () => {
    const clock = new FakeClock();
    const memory = new MemoryHistory({ clock });
    memory.record("dual.test", 443, [{ address: V4, state: "connected", rttMs: 20 }, { address: V6, state: "lost" }]);
    const recorded: AddressOutcome[][] = [];
    const asyncStore: History = {
      lookup: (host, port) => Promise.resolve(memory.lookup(host, port)),
      record: (_h, _p, outcomes) => Promise.resolve(void recorded.push([...outcomes])),
    };
    const t = dualConnect(clock, asyncStore, BLACKHOLED_V6);
    await clock.advance(50);
    assert.equal((await t.result).address, V4);
    assert.deepEqual(t.dialer.dialed, [V4]);
    assert.deepEqual(recorded, [[{ address: V4, state: "connected", rttMs: 20 }]]);

    const broken: History[] = [
      {
        lookup: () => {
          throw new Error("store down");
        },
        record: () => {
          throw new Error("store down");
        },
      },
      { lookup: () => Promise.reject(new Error("down")), record: () => Promise.reject(new Error("down")) },
      { lookup: () => ({ addresses: "nonsense" }) as unknown as HostHistory, record: () => {} },
    ];
    for (const store of broken) {
      const b = dualConnect(clock, store, { [V6]: { connect: 5 }, [V4]: { connect: 5 } });
      await clock.advance(50);
      assert.equal((await b.result).address, V6);
    }
  });

  it("a timed-out race records failures but not the attempts it cut short", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    const t = dualConnect(clock, history, { [V6]: { hang: true }, [V4]: { fail: 300 } }, {
      schedule: fixedDelay(250),
      timeout: 1000,
    });
    await clock.advance(1100);
    await assert.rejects(t.result);
    assert.deepEqual(history.lookup("dual.test", 443)!.addresses.map((a) => [a.address, a.state]), [[V4, "failed"]]);
  });

  it("per network: a connect on another network starts afresh, and the first network's lesson comes back", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    const first = dualConnect(clock, history, BLACKHOLED_V6, { schedule: fixedDelay(250), network: "home" });
    await clock.advance(300);
    assert.equal((await first.result).address, V4);
    assert.equal(history.lookup("dual.test", 443), undefined); // the unknown network is a partition of its own
    assert.equal(history.lookup("dual.test", 443, "home")?.addresses.length, 2);

    // On the cafe's network IPv6 works: history from home must not send it to IPv4 first.
    const cafe = dualConnect(clock, history, { [V6]: { connect: 10 }, [V4]: { connect: 10 } }, { network: "cafe" });
    await clock.advance(300);
    assert.equal((await cafe.result).address, V6);
    assert.deepEqual(cafe.dialer.dialed, [V6]);
    assert.equal(cafe.events.some((e) => e.type === "history-order"), false); // nothing known here
    assert.equal(history.networks, 2);

    const back = dualConnect(clock, history, BLACKHOLED_V6, { schedule: fixedDelay(250), network: "home" });
    await clock.advance(300);
    assert.equal((await back.result).address, V4);
    assert.deepEqual(back.dialer.dialed, [V4]); // home's lesson, kept
  });

  it("keeps at most maxNetworks networks, dropping the least recently used", () => {
    const history = new MemoryHistory({ maxNetworks: 2 });
    const won: AddressOutcome[] = [{ address: V4, state: "connected", rttMs: 5 }];
    history.record("a.test", 80, won, "n1");
    history.record("a.test", 80, won, "n2");
    history.record("a.test", 80, won, "n1"); // n1 used again: n2 is now the oldest
    history.record("a.test", 80, won, "n3");
    assert.equal(history.networks, 2);
    assert.equal(history.lookup("a.test", 80, "n2"), undefined);
    assert.ok(history.lookup("a.test", 80, "n1"));
    assert.ok(history.lookup("a.test", 80, "n3"));
    assert.equal(history.size, 2);
    assert.throws(() => new MemoryHistory({ maxNetworks: 0 }), /MemoryHistory: maxNetworks/);
  });

  it("a store of two parameters is called as before when no network is known, with it when one is", async () => {
    const clock = new FakeClock();
    const calls: unknown[][] = [];
    const store: History = {
      lookup: (...args: unknown[]) => void calls.push(["lookup", ...args]),
      record: (...args: unknown[]) => void calls.push(["record", args[0], args[1], args.length]),
    } as unknown as History;
    const plain = dualConnect(clock, store, { [V6]: { connect: 5 }, [V4]: { connect: 5 } });
    await clock.advance(50);
    await plain.result;
    const named = dualConnect(clock, store, { [V6]: { connect: 5 }, [V4]: { connect: 5 } }, { network: "n1" });
    await clock.advance(50);
    await named.result;
    assert.deepEqual(calls, [
      ["lookup", "dual.test", 443],
      ["record", "dual.test", 443, 3],
      ["lookup", "dual.test", 443, "n1"],
      ["record", "dual.test", 443, 4],
    ]);
  });

  it("rejects a bad history option, naming the field", async () => {
    const base = { hostname: "dual.test", port: 443, dialer: { dial: () => Promise.reject(), close: () => {} } };
    const resolver = { resolve: () => Promise.resolve([]) };
    await assert.rejects(
      connect({ ...base, resolver, history: true as unknown as false }),
      /history must be false or a store/,
    );
    await assert.rejects(
      connect({ ...base, resolver, history: { lookup: () => undefined } as unknown as History }),
      /history.record must be a function/,
    );
    await assert.rejects(
      connect({ ...base, resolver, network: 7 as unknown as string }),
      /network must be a string, got 7/,
    );
    await assert.rejects( // inherited, as a class's field default would be
      connect(Object.assign(Object.create({ network: 7 }), { ...base, resolver })),
      /network must be a string, got 7/,
    );
  });

  it("reads a `network` getter (the adapters' network id) only when history asks for it", async () => {
    const reads: string[] = [];
    const store: History = { lookup: () => undefined, record: () => {} };
    const dialer = { dial: (t: { address: string }) => Promise.resolve(t.address), close: () => {} };
    const resolver = { resolve: (_n: string, f: number) => Promise.resolve(f === 4 ? [V4] : []) };
    const withGetter = (hostname: string, history: History | false) => {
      const options = { hostname, port: 443, dialer, resolver, history };
      return Object.defineProperty(options, "network", {
        get: () => (reads.push(hostname), "n1"),
        enumerable: true,
      });
    };
    assert.equal((await connect(withGetter("192.0.2.9", store))).address, "192.0.2.9"); // a literal: no history
    assert.equal((await connect(withGetter("off.test", false))).address, V4);
    assert.deepEqual(reads, []);
    assert.equal((await connect(withGetter("on.test", store))).address, V4);
    assert.deepEqual(reads, ["on.test"]); // once, for both the lookup and the record
  });

  it("an empty in-memory store reads the `network` getter once the first attempt is dialled, and records under it", async () => {
    const steps: string[] = [];
    const dialer = {
      dial: (t: { address: string }) => (steps.push(`dial ${t.address}`), Promise.resolve(t.address)),
      close: () => {},
    };
    const resolver = {
      resolve: (_n: string, f: number) => (steps.push(`ask ${f}`), Promise.resolve(f === 4 ? [V4] : [])),
    };
    const connectWith = (history: MemoryHistory, network: () => string) =>
      connect(Object.defineProperty({ hostname: "first.test", port: 443, dialer, resolver, history }, "network", {
        get: () => (steps.push("network"), network()),
        enumerable: true,
      }));

    const empty = new MemoryHistory();
    assert.equal((await connectWith(empty, () => "n1")).address, V4);
    assert.deepEqual(steps, ["ask 6", "ask 4", `dial ${V4}`, "network"]);
    assert.equal(empty.lookup("first.test", 443, "n1")?.addresses[0].address, V4);
    assert.equal(empty.lookup("first.test", 443), undefined);

    steps.length = 0; // a store that knows something reads it first, for its lookup (and IPv4 won: A leads)
    assert.equal((await connectWith(empty, () => "n1")).address, V4);
    assert.deepEqual(steps, ["network", "ask 4", "ask 6", `dial ${V4}`]);

    steps.length = 0; // a getter that throws names no network: the connect goes on, the record is the unknown network's
    const other = new MemoryHistory();
    const thrown = () => {
      throw new Error("no routes");
    };
    assert.equal((await connectWith(other, thrown)).address, V4);
    assert.deepEqual(steps, ["ask 6", "ask 4", `dial ${V4}`, "network"]);
    assert.equal(other.lookup("first.test", 443)?.addresses[0].address, V4);
  });
});

describe("history with a slow async store", () => {
  it("the lookup counts toward the timeout, and an abort during it rejects with the signal's reason", async () => {
    const clock = new FakeClock();
    const slow: History = {
      lookup: () => new Promise((resolve) => clock.setTimer(() => resolve(undefined), 300)),
      record: () => {},
    };
    const timed = dualConnect(clock, slow, { [V6]: { hang: true }, [V4]: { hang: true } }, { timeout: 500 });
    let settledAt: number | undefined;
    timed.result.catch(() => (settledAt = clock.now()));
    await clock.advance(600);
    await assert.rejects(timed.result, /timed out after 500 ms/);
    assert.equal(settledAt, 500);

    const controller = new AbortController();
    const aborted = dualConnect(clock, slow, { [V4]: { connect: 1 } }, { signal: controller.signal });
    await clock.advance(100);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await clock.advance(300);
    await assert.rejects(aborted.result, (e) => e === reason);
    assert.deepEqual(aborted.dialer.dialed, []);
  });
});

describe("a history store that never answers (issue 15, item 6)", () => {
  const silent: History = { lookup: () => new Promise(() => {}), record: () => {} };

  it("timeout ends the connect", async () => {
    const clock = new FakeClock();
    const t = dualConnect(clock, silent, { [V6]: { hang: true }, [V4]: { hang: true } }, { timeout: 200 });
    let settledAt: number | undefined;
    t.result.catch(() => (settledAt = clock.now()));
    await clock.advance(1000);
    await assert.rejects(t.result, /timed out after 200 ms/);
    assert.equal(settledAt, 200);
  });

  it("the signal ends the connect, with its reason", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const t = dualConnect(clock, silent, { [V4]: { connect: 1 } }, { signal: controller.signal });
    await clock.advance(100);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await clock.advance(10);
    await assert.rejects(t.result, (e) => e === reason);
    assert.deepEqual(t.dialer.dialed, []);
  });

  it("with neither, the connect goes on without history once the store has had the first attempt delay", async () => {
    const clock = new FakeClock();
    const t = dualConnect(clock, silent, { [V6]: { connect: 5 } });
    await clock.advance(1000);
    const connected = await t.result;
    assert.equal(connected.address, V6);
    assert.equal(connected.attempts[0].startMs, HISTORY_WAIT);
  });
});

describe("an attempt aborted to make room under the cap (issue 15, item 9)", () => {
  it("is recorded as what happened: no answer in 2 s, a failure; not as lost to a winner", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    const t = dualConnect(clock, history, { [V6]: { hang: true }, [V4]: { connect: 10 } }, {
      schedule: fixedDelay(100),
      maxAttemptsInFlight: 1,
    });
    await clock.advance(3000);
    assert.equal((await t.result).address, V4);
    assert.deepEqual(history.lookup("dual.test", 443)!.addresses.map((a) => [a.address, a.state]), [
      [V6, "failed"],
      [V4, "connected"],
    ]);
  });
});

describe("a connect the caller restricted teaches history nothing (issue 15, item 8)", () => {
  for (
    const [name, options] of [
      ["family: 4", { family: 4 }],
      ["a policy that refuses IPv6", { addressPolicy: (_a: string, family: number) => family === 4 }],
    ] as const
  ) {
    it(`${name}: IPv4 won only because IPv6 was never tried; the next connect still leads with IPv6`, async () => {
      const clock = new FakeClock();
      const history = new MemoryHistory({ clock });
      const restricted = dualConnect(clock, history, { [V4]: { connect: 10 } }, options);
      await clock.advance(100);
      assert.equal((await restricted.result).address, V4);
      assert.equal(history.lookup("dual.test", 443), undefined);
      const next = dualConnect(clock, history, { [V6]: { connect: 10 }, [V4]: { connect: 10 } });
      await clock.advance(100);
      assert.equal((await next.result).address, V6);
    });
  }
});
