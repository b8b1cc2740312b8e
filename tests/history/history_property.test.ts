/**
 * Property tests for history: random outcome sequences, clocks and address
 * lists. On a failure fast-check prints the seed and the shrunk case.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { connect } from "../../src/connect/connect.ts";
import { type AddressOutcome, type AddressState, type HostHistory, MemoryHistory } from "../../src/history/history.ts";
import { historyRank, historySchedule, rttAttemptDelay } from "../../src/history/in_race.ts";
import { fixedDelay, MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY } from "../../src/race/schedule.ts";
import type { ConnectEvent } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

const V4 = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.1"];
const V6 = ["2001:db8::1", "2001:db8::2", "2001:db8::3"];
const ALL = [...V4, ...V6];
const STATES: AddressState[] = ["connected", "lost", "failed"];

const arbOutcome: fc.Arbitrary<AddressOutcome> = fc.record({
  address: fc.constantFrom(...ALL),
  state: fc.constantFrom(...STATES),
  rttMs: fc.option(fc.oneof(fc.double({ min: 0, max: 5000, noNaN: true }), fc.constantFrom(NaN, -1, Infinity)), {
    nil: undefined,
  }),
});

/** One step: time passes, then one host records one race's outcomes. */
const arbStep = fc.record({
  advance: fc.integer({ min: 0, max: 40_000 }),
  host: fc.constantFrom("a.test", "b.test", "c.test", "d.test", "e.test"),
  port: fc.constantFrom(80, 443),
  outcomes: fc.array(arbOutcome, { maxLength: 6 }),
});

const arbHostHistory: fc.Arbitrary<HostHistory> = fc.record({
  addresses: fc.uniqueArray(
    fc.record({
      address: fc.constantFrom(...ALL),
      state: fc.constantFrom(...STATES),
      srttMs: fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: undefined }),
      rttvarMs: fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: undefined }),
      ageMs: fc.nat(),
    }),
    { selector: (k) => k.address },
  ),
});

describe("history properties", () => {
  it("the store stays bounded, smooths within the samples, and forgets exactly at the TTL", () => {
    fc.assert(
      fc.property(
        fc.array(arbStep, { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1_000, max: 120_000 }),
        (steps, maxHosts, ttl) => {
          let now = 0;
          const history = new MemoryHistory({ clock: { now: () => now, setTimer: () => () => {} }, maxHosts, ttl });
          // A model of when each entry was created, and the RTT samples since then.
          const created = new Map<string, number>();
          const samples = new Map<string, number[]>();
          for (const step of steps) {
            now += step.advance;
            const key = `${step.host}:${step.port}`;
            const found = history.lookup(step.host, step.port);
            const alive = created.has(key) && now - created.get(key)! < ttl;
            if (!alive) {
              assert.equal(found, undefined, "an expired entry must have no effect");
            }
            if (step.outcomes.length === 0) continue;
            if (!alive || found === undefined) { // new, expired, or pushed out by the cap
              created.set(key, now);
              for (const address of ALL) samples.delete(`${key} ${address}`);
            }
            history.record(step.host, step.port, step.outcomes);
            for (const o of step.outcomes) {
              if (typeof o.rttMs === "number" && Number.isFinite(o.rttMs) && o.rttMs >= 0) {
                samples.set(`${key} ${o.address}`, [...(samples.get(`${key} ${o.address}`) ?? []), o.rttMs]);
              }
            }
            assert.ok(history.size <= maxHosts, "at most maxHosts entries");
            const view = history.lookup(step.host, step.port)!;
            assert.ok(view, "just recorded, so known");
            for (const known of view.addresses) {
              assert.ok(known.ageMs >= 0);
              const seen = samples.get(`${key} ${known.address}`) ?? [];
              if (seen.length === 0) {
                assert.equal(known.srttMs, undefined);
                continue;
              }
              assert.ok(known.srttMs! >= Math.min(...seen) - 1e-9 && known.srttMs! <= Math.max(...seen) + 1e-9);
              assert.ok(known.rttvarMs! >= 0 && Number.isFinite(known.rttvarMs!));
            }
            // The last state recorded for each address is the one seen.
            const last = new Map(step.outcomes.map((o) => [o.address, o.state]));
            for (const [address, state] of last) {
              assert.equal(view.addresses.find((k) => k.address === address)?.state, state);
            }
          }
        },
      ),
    );
  });

  it("ranking never drops an address and puts connected before unknown before lost before failed", () => {
    fc.assert(
      fc.property(arbHostHistory, fc.shuffledSubarray(ALL), (history, addresses) => {
        const sorted = [...addresses].sort(historyRank(history));
        assert.deepEqual([...sorted].sort(), [...addresses].sort(), "the same addresses");
        const order: Record<string, number> = { connected: 0, lost: 2, failed: 3 };
        const classes = sorted.map((a) => order[history.addresses.find((k) => k.address === a)?.state ?? ""] ?? 1);
        assert.deepEqual(classes, [...classes].sort((x, y) => x - y));
      }),
    );
  });

  it("every delay history sets is within RFC 8305's 10 ms .. 2 s", () => {
    fc.assert(
      fc.property(
        arbHostHistory,
        fc.constantFrom(...ALL),
        fc.integer({ min: 10, max: 2000 }),
        (history, started, base) => {
          for (const known of history.addresses) {
            const delay = rttAttemptDelay(known);
            if (delay !== undefined) assert.ok(delay >= MIN_ATTEMPT_DELAY && delay <= MAX_ATTEMPT_DELAY, `${delay}`);
          }
          const delay = historySchedule(fixedDelay(base), history, () => started)({ started: 1, expiries: 0 });
          assert.ok(delay >= MIN_ATTEMPT_DELAY && delay <= MAX_ATTEMPT_DELAY, `${delay}`);
        },
      ),
    );
  });

  it("in a race, history never drops an address, and an expired entry changes nothing", async () => {
    const arbScript: fc.Arbitrary<Script> = fc.oneof(
      fc.record({ connect: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ fail: fc.integer({ min: 1, max: 400 }) }),
      fc.constant({ hang: true as const }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(V6, { minLength: 1 }),
        fc.shuffledSubarray(V4, { minLength: 1 }),
        fc.array(arbOutcome, { maxLength: 8 }),
        fc.boolean(),
        fc.dictionary(fc.constantFrom(...ALL), arbScript),
        async (v6, v4, learned, allFail, scripts) => {
          const race = async (history: MemoryHistory | false, clock: FakeClock, script: Record<string, Script>) => {
            const dialer = new FakeDialer(clock, script);
            const events: ConnectEvent[] = [];
            const result = connect({
              hostname: "p.test",
              port: 443,
              clock,
              dialer,
              history,
              schedule: fixedDelay(100),
              timeout: 20_000,
              resolver: fakeResolver(clock, { 6: v6, 4: v4 }),
              onEvent: (e) => events.push(e),
            }).then((c) => c.address, () => undefined);
            await clock.advance(21_000);
            return { dialed: dialer.dialed, address: await result, events };
          };
          const script = allFail ? Object.fromEntries(ALL.map((a) => [a, { fail: 5 }])) : scripts;

          const clock = new FakeClock();
          const history = new MemoryHistory({ clock, ttl: 60_000 });
          history.record("p.test", 443, learned);
          const withHistory = await race(history, clock, script);
          if (allFail) {
            assert.deepEqual([...withHistory.dialed].sort(), [...v6, ...v4].sort(), "every address tried");
          }

          // Past the TTL the entry must make no difference at all.
          const expired = new MemoryHistory({ clock, ttl: 60_000 });
          expired.record("p.test", 443, learned);
          await clock.advance(60_000);
          const afterTtl = await race(expired, clock, script);
          const without = await race(false, new FakeClock(), script);
          assert.deepEqual(afterTtl.dialed, without.dialed);
          assert.equal(afterTtl.address, without.address);
          assert.equal(afterTtl.events.some((e) => e.type.startsWith("history-")), false);
        },
      ),
      { numRuns: 40 },
    );
  });
});
