// A host never met, on a network whose RTTs history knows, starts from the network's RTTs (docs/history.md).
// Every race runs on a fake clock: no real sleep, no timing assert.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import {
  type History,
  MemoryHistory,
  NETWORK_RTT_MIN_HOSTS,
  type NetworkRtt,
  networkRttOf,
  updateStoredHost,
} from "../../src/history/history.ts";
import { NETWORK_DELAY_FLOOR, networkAttemptDelay, networkSchedule } from "../../src/history/in_race.ts";
import { defaultSchedule, fixedDelay, halving, MAX_ATTEMPT_DELAY } from "../../src/race/schedule.ts";
import type { ConnectEvent } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

const V6 = "2001:db8::1";
const V4 = "192.0.2.1";
const NET = "home-network";
/** IPv6 drops SYNs, IPv4 answers in 20 ms. */
const BLACKHOLED_V6: Record<string, Script> = { [V6]: { hang: true }, [V4]: { connect: 20 } };

/** A history that has met `rtts.length` other hosts on `network`, one connect each, with these RTTs. */
function warmed(clock: FakeClock, rtts: number[], network: string | undefined = NET): MemoryHistory {
  const history = new MemoryHistory({ clock });
  rtts.forEach((rttMs, i) => {
    history.record(`other${i}.test`, 443, [{ address: `192.0.2.${100 + i}`, state: "connected", rttMs }], network);
  });
  return history;
}

/** One connect to new.test (never met), both families answering at once. */
function newHostConnect(
  clock: FakeClock,
  history: History | false,
  scripts: Record<string, Script>,
  options: Record<string, unknown> = {},
) {
  const dialer = new FakeDialer(clock, scripts);
  const events: ConnectEvent[] = [];
  const result = connect({
    hostname: "new.test",
    port: 443,
    clock,
    dialer,
    resolver: fakeResolver(clock, { 6: [V6], 4: [V4] }),
    history,
    network: NET,
    onEvent: (e) => events.push(e),
    ...options,
  });
  result.catch(() => {});
  return { dialer, events, result };
}

/** The start of the IPv4 attempt (the second), after a connect to new.test with IPv6 blackholed. */
async function secondStart(clock: FakeClock, history: History | false, options: Record<string, unknown> = {}) {
  const t = newHostConnect(clock, history, BLACKHOLED_V6, options);
  await clock.advance(3000);
  const won = await t.result;
  assert.equal(won.address, V4);
  assert.deepEqual(t.dialer.dialed, [V6, V4]);
  assert.equal(won.attempts[0].startMs, 0);
  return { startMs: won.attempts[1].startMs, events: t.events };
}

describe("the network's RTTs in the store", () => {
  const host = (rttMs: number | undefined, at = 0, state: "connected" | "lost" = "connected") =>
    updateStoredHost(undefined, [{ address: V4, state, rttMs }], at, 60_000);

  it("is the median of each live host's best SRTT and of its RTTVAR, from 3 hosts on", () => {
    assert.deepEqual(networkRttOf([host(18), host(20), host(400)], 10, 60_000), { srttMs: 20, rttvarMs: 10, hosts: 3 });
    assert.deepEqual(networkRttOf([host(10), host(20), host(30), host(40)], 10, 60_000), {
      srttMs: 25,
      rttvarMs: 12.5,
      hosts: 4,
    });
    assert.equal(NETWORK_RTT_MIN_HOSTS, 3);
    assert.equal(networkRttOf([host(18), host(20)], 10, 60_000), undefined); // too few
    assert.deepEqual(networkRttOf([host(18), host(20)], 10, 60_000, 2), { srttMs: 19, rttvarMs: 9.5, hosts: 2 });
    assert.equal(networkRttOf([], 10, 60_000, 0), undefined); // nothing is never a summary
  });

  it("a host counts by its fastest connected address; hosts expired or never connected do not count", () => {
    const two = updateStoredHost(
      undefined,
      [
        { address: V6, state: "connected", rttMs: 90 },
        { address: V4, state: "connected", rttMs: 30 },
        { address: "192.0.2.2", state: "failed" },
      ],
      0,
      60_000,
    );
    const lostOnly = host(5, 0, "lost"); // an RTT, but it never won
    const expired = host(1, -60_000);
    assert.deepEqual(networkRttOf([two, host(30), host(30), lostOnly, expired, host(undefined)], 10, 60_000), {
      srttMs: 30,
      rttvarMs: 15,
      hosts: 3,
    });
  });

  it("MemoryHistory keeps it per network, and a record on the network updates it", async () => {
    const clock = new FakeClock();
    const history = warmed(clock, [20, 20]);
    assert.equal(history.networkRtt(NET), undefined);
    history.record("third.test", 80, [{ address: V4, state: "connected", rttMs: 26 }], NET);
    assert.deepEqual(history.networkRtt(NET), { srttMs: 20, rttvarMs: 10, hosts: 3 });
    assert.equal(history.networkRtt("elsewhere"), undefined);
    assert.equal(history.networkRtt(), undefined);
    history.record("fourth.test", 80, [{ address: V4, state: "connected", rttMs: 30 }], NET);
    assert.deepEqual(history.networkRtt(NET), { srttMs: 23, rttvarMs: 11.5, hosts: 4 });
    await clock.advance(10 * 60_000); // every host past its TTL
    assert.equal(history.networkRtt(NET), undefined);
    history.clear();
    assert.equal(history.networkRtt(NET), undefined);
  });
});

describe("the delay from the network's RTTs", () => {
  it("= clamp(min(SRTT + max(25, 4·RTTVAR), 3·SRTT + 25), 100 ms, 2 s)", () => {
    const delay = (srttMs: number, rttvarMs: number) => networkAttemptDelay({ srttMs, rttvarMs, hosts: 3 });
    assert.equal(delay(20, 10), NETWORK_DELAY_FLOOR); // 60, raised to the draft's recommended floor
    assert.equal(delay(40, 20), 120); // 3 × SRTT after one sample each
    assert.equal(delay(40, 2), 100); // a steady network: SRTT + 25 = 65, the floor
    assert.equal(delay(60, 5), 100);
    assert.equal(delay(80, 2), 105); // SRTT + 25
    assert.equal(delay(60, 90), 205); // jitter cannot stretch it past 3 × SRTT + 25
    assert.equal(delay(900, 450), MAX_ATTEMPT_DELAY);
    assert.equal(delay(NaN, 1), undefined);
    assert.equal(delay(20, -1), undefined);
    for (const srtt of [0, 5, 20, 33, 100, 400, 1000]) {
      const ms = delay(srtt, srtt / 2)!;
      assert.ok(ms <= Math.min(MAX_ATTEMPT_DELAY, Math.max(NETWORK_DELAY_FLOOR, 3 * srtt + 25)), `${srtt}: ${ms}`);
    }
  });

  it("replaces the schedule's delay until the first expiry; then the schedule goes on", () => {
    const changes: unknown[] = [];
    const schedule = networkSchedule(defaultSchedule, { srttMs: 40, rttvarMs: 20, hosts: 3 }, (c) => changes.push(c));
    assert.equal(schedule({ started: 1, expiries: 0 }), 120);
    assert.equal(schedule({ started: 2, expiries: 0 }), 120); // the first failed at once: still no expiry
    assert.equal(schedule({ started: 3, expiries: 1 }), 125);
    assert.equal(schedule({ started: 4, expiries: 2 }), 62);
    assert.deepEqual(changes[0], { delayMs: 120, scheduleMs: 250, srttMs: 40, rttvarMs: 20, hosts: 3 });
    assert.equal(networkSchedule(defaultSchedule, { srttMs: NaN, rttvarMs: 0, hosts: 3 }), defaultSchedule);
  });
});

describe("a host never met, in connect", () => {
  it("on a network with RTT ~20 ms: the second attempt starts at 100 ms, not 250", async () => {
    const clock = new FakeClock();
    const { startMs, events } = await secondStart(clock, warmed(clock, [19, 20, 22]));
    assert.equal(startMs, 100); // clamp(3 × 20 + 25 = 85 → 60 after one sample, 100, 2000)
    const told = events.filter((e) => e.type === "network-delay");
    assert.equal(told.length, 1);
    assert.deepEqual(told[0], {
      type: "network-delay",
      atMs: 0,
      delayMs: 100,
      scheduleMs: 250,
      srttMs: 20,
      rttvarMs: 10,
      hosts: 3,
    });
  });

  it("on a network with RTT ~40 ms: 3 × the RTT, 120 ms", async () => {
    const clock = new FakeClock();
    assert.equal((await secondStart(clock, warmed(clock, [35, 40, 60]))).startMs, 120);
  });

  it("with too few hosts measured, or none on this network: the schedule's 250 ms", async () => {
    const clock = new FakeClock();
    const few = await secondStart(clock, warmed(clock, [20, 20]));
    assert.equal(few.startMs, 250);
    assert.equal(few.events.some((e) => e.type === "network-delay"), false);
    assert.equal((await secondStart(clock, warmed(clock, [20, 20, 20], "another network"))).startMs, 250);
    assert.equal((await secondStart(clock, new MemoryHistory({ clock }))).startMs, 250);
    assert.equal((await secondStart(clock, false)).startMs, 250);
  });

  it("the caller's schedule wins: halving(500) waits 500 ms as the ISC article says, fixedDelay(300) 300", async () => {
    const clock = new FakeClock();
    const history = () => warmed(clock, [20, 20, 20]); // fresh each time: a connect teaches history new.test
    const article = await secondStart(clock, history(), { schedule: halving(500) });
    assert.equal(article.startMs, 500);
    assert.equal(article.events.some((e) => e.type === "network-delay"), false);
    assert.equal((await secondStart(clock, history(), { schedule: fixedDelay(300) })).startMs, 300);
    assert.equal((await secondStart(clock, history(), { schedule: defaultSchedule })).startMs, 250);
    assert.equal((await secondStart(clock, history())).startMs, 100);
  });

  it("a healthy first attempt that connects before the delay: 1 attempt, 1 SYN", async () => {
    const clock = new FakeClock();
    const history = warmed(clock, [20, 20, 20]);
    const t = newHostConnect(clock, history, { [V6]: { connect: 90 }, [V4]: { connect: 20 } });
    await clock.advance(1000);
    const won = await t.result;
    assert.equal(won.address, V6);
    assert.deepEqual(t.dialer.dialed, [V6]);
    assert.equal(t.dialer.open.length, 1);
  });

  it("a far host past the delay gets a second attempt, and the first to answer wins", async () => {
    const clock = new FakeClock();
    const history = warmed(clock, [20, 20, 20]);
    const t = newHostConnect(clock, history, { [V6]: { connect: 200 }, [V4]: { connect: 200 } });
    await clock.advance(1000);
    const won = await t.result;
    assert.equal(won.address, V6);
    assert.deepEqual(t.dialer.dialed, [V6, V4]); // the price: one extra SYN
    assert.deepEqual(won.attempts.map((a) => a.startMs), [0, 100]);
    assert.equal(t.dialer.open.length, 1);
  });

  it("after the first expiry the default schedule goes on: 100, then 125, 62 ms", async () => {
    const clock = new FakeClock();
    const history = warmed(clock, [20, 20, 20]);
    const v6 = ["2001:db8::1", "2001:db8::2"];
    const v4 = ["192.0.2.1", "192.0.2.2"];
    const dialer = new FakeDialer(clock, { [v4[1]]: { connect: 20 } });
    const result = connect({
      hostname: "many.test",
      port: 443,
      clock,
      dialer,
      history,
      network: NET,
      resolver: fakeResolver(clock, { 6: v6, 4: v4 }),
    });
    await clock.advance(1000);
    const won = await result;
    assert.equal(won.address, v4[1]);
    assert.deepEqual(won.attempts.map((a) => a.startMs), [0, 100, 225, 287]);
  });

  it("a host whose own RTT history knows keeps its own delay", async () => {
    const clock = new FakeClock();
    const history = warmed(clock, [20, 20, 20]);
    history.record("new.test", 443, [{ address: V6, state: "connected", rttMs: 60 }], NET); // 60 + 4 × 30 = 180
    const t = newHostConnect(clock, history, BLACKHOLED_V6);
    await clock.advance(3000);
    const won = await t.result;
    assert.deepEqual(won.attempts.map((a) => a.startMs), [0, 180]);
    assert.equal(t.events.some((e) => e.type === "network-delay"), false);
    assert.equal(t.events.some((e) => e.type === "history-delay"), true);
  });

  it("a store without networkRtt, or one that throws, rejects or answers nonsense: the schedule's 250 ms", async () => {
    const clock = new FakeClock();
    const memory = warmed(clock, [20, 20, 20]);
    const store = (networkRtt?: () => unknown): History => ({
      lookup: (h, p, n) => memory.lookup(h, p, n),
      record: () => {},
      ...(networkRtt ? { networkRtt: networkRtt as () => NetworkRtt } : {}),
    });
    assert.equal((await secondStart(clock, store())).startMs, 250);
    assert.equal(
      (await secondStart(
        clock,
        store(() => {
          throw new Error("broken");
        }),
      )).startMs,
      250,
    );
    assert.equal((await secondStart(clock, store(() => Promise.reject(new Error("down"))))).startMs, 250);
    assert.equal((await secondStart(clock, store(() => ({ srttMs: "20" })))).startMs, 250);
    assert.equal((await secondStart(clock, store(() => null))).startMs, 250);
  });

  it("an async store's summary is awaited (at most the history wait) and used", async () => {
    const clock = new FakeClock();
    const memory = warmed(clock, [40, 40, 40]);
    const store: History = {
      lookup: (h, p, n) => memory.lookup(h, p, n),
      record: (h, p, o, n) => memory.record(h, p, o, n),
      networkRtt: (n) => Promise.resolve(memory.networkRtt(n)),
    };
    assert.equal((await secondStart(clock, store)).startMs, 120);
  });

  it("a store whose networkRtt is not a function is refused, naming the field", async () => {
    const clock = new FakeClock();
    const store = { lookup: () => undefined, record: () => {}, networkRtt: 20 } as unknown as History;
    await assert.rejects(
      newHostConnect(clock, store, BLACKHOLED_V6).result,
      /history\.networkRtt must be a function, got 20/,
    );
  });
});
