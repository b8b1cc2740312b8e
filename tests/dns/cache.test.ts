import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cachingResolver } from "../../src/dns/cache.ts";
import type { Family, ResolvedAddresses, Resolver } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";

/** A resolver that records each question and answers from `ttls` (per name), or waits when told to. */
function counting(ttls: Record<string, number>, hold = false) {
  const asked: string[] = [];
  const signals: AbortSignal[] = [];
  const release: Array<() => void> = [];
  const resolver: Resolver = {
    resolve: () => Promise.reject(new Error("the cache must use resolveWithTtl")),
    resolveWithTtl(name: string, family: Family, signal: AbortSignal): Promise<ResolvedAddresses> {
      asked.push(`${name}/${family}`);
      signals.push(signal);
      const answer = { addresses: [family === 4 ? "192.0.2.1" : "2001:db8::1"], ttl: ttls[name] ?? 0 };
      if (!hold) return Promise.resolve(answer);
      return new Promise((resolve) => release.push(() => resolve(answer)));
    },
  };
  return { resolver, asked, signals, release };
}

const open = () => new AbortController().signal;

describe("cachingResolver", () => {
  it("reuses an answer until its TTL runs out, then asks again", async () => {
    const clock = new FakeClock();
    const inner = counting({ "a.example": 2 });
    const cache = cachingResolver(inner.resolver, { clock });
    assert.deepEqual(await cache.resolve("a.example", 4, open()), ["192.0.2.1"]);
    await clock.advance(1999);
    assert.deepEqual(await cache.resolveWithTtl("A.example", 4, open()), { addresses: ["192.0.2.1"], ttl: 1 });
    assert.deepEqual(inner.asked, ["a.example/4"]);
    await clock.advance(1);
    await cache.resolve("a.example", 4, open());
    assert.deepEqual(inner.asked, ["a.example/4", "a.example/4"]);
  });
  it("keys a relative name and its absolute form (trailing dot) apart: they are different questions", async () => {
    const inner = counting({ "db": 60, "db.": 60 });
    const cache = cachingResolver(inner.resolver, { clock: new FakeClock() });
    await cache.resolve("db", 4, open());
    await cache.resolve("db.", 4, open());
    await cache.resolve("DB.", 4, open());
    await cache.resolve("db", 4, open());
    assert.deepEqual(inner.asked, ["db/4", "db./4"]);
  });
  it("keeps families apart and never caches a TTL of 0", async () => {
    const inner = counting({ "a.example": 60 });
    const cache = cachingResolver(inner.resolver, { clock: new FakeClock() });
    await cache.resolve("a.example", 4, open());
    await cache.resolve("a.example", 6, open());
    await cache.resolve("zero.example", 4, open());
    await cache.resolve("zero.example", 4, open());
    assert.deepEqual(inner.asked, ["a.example/4", "a.example/6", "zero.example/4", "zero.example/4"]);
  });
  it("caps TTLs at maxTtl and evicts the oldest entry beyond maxEntries", async () => {
    const clock = new FakeClock();
    const inner = counting({ a: 86400, b: 86400, c: 86400 });
    const cache = cachingResolver(inner.resolver, { clock, maxTtl: 10, maxEntries: 2 });
    assert.equal((await cache.resolveWithTtl("a", 4, open())).ttl, 10);
    await cache.resolve("b", 4, open());
    await cache.resolve("c", 4, open());
    assert.equal(cache.size, 2);
    await cache.resolve("a", 4, open()); // evicted: asked again
    await clock.advance(10_000);
    await cache.resolve("c", 4, open()); // expired: asked again
    assert.deepEqual(inner.asked, ["a/4", "b/4", "c/4", "a/4", "c/4"]);
  });
  it("shares one query among concurrent callers, and cancels it only when all have aborted", async () => {
    const inner = counting({ a: 60 }, true);
    const cache = cachingResolver(inner.resolver, { clock: new FakeClock() });
    const first = new AbortController();
    const second = new AbortController();
    const p1 = cache.resolve("a", 4, first.signal);
    const p2 = cache.resolve("a", 4, second.signal);
    assert.deepEqual(inner.asked, ["a/4"]);
    first.abort(new Error("first gave up"));
    await assert.rejects(p1, /first gave up/);
    assert.equal(inner.signals[0].aborted, false);
    second.abort(new Error("second gave up"));
    await assert.rejects(p2, /second gave up/);
    assert.equal(inner.signals[0].aborted, true);
    inner.release[0]();
    const third = cache.resolve("a", 4, open());
    assert.equal(inner.asked.length, 2, "a cancelled query is neither shared nor cached");
    inner.release[1]();
    assert.deepEqual(await third, ["192.0.2.1"]);
  });
  it("passes a resolver without TTLs straight through, uncached", async () => {
    let calls = 0;
    const cache = cachingResolver({ resolve: () => (calls++, Promise.resolve(["192.0.2.9"])) });
    await cache.resolve("a", 4, open());
    assert.deepEqual(await cache.resolveWithTtl("a", 4, open()), { addresses: ["192.0.2.9"], ttl: 0 });
    assert.equal(calls, 2);
  });
  it("passes HTTPS/SVCB lookups through to a resolver that has them (the autoResolver's stub), and has none without", async () => {
    const answer = { name: "a.example", records: [], skipped: [], ttl: 60 };
    const asked: unknown[] = [];
    const cache = cachingResolver({
      resolve: () => Promise.resolve([]),
      resolveServices: (...args) => (asked.push(args.slice(0, 2).concat(args[3])), Promise.resolve(answer)),
    });
    assert.equal(await cache.resolveServices?.("a.example", 443, open()), answer);
    assert.equal(await cache.resolveServices?.("a.example", 8053, open(), "dns"), answer);
    assert.deepEqual(asked, [["a.example", 443, undefined], ["a.example", 8053, "dns"]]);
    assert.equal(cachingResolver({ resolve: () => Promise.resolve([]) }).resolveServices, undefined);
  });
  it("rejects at once for an aborted signal, and bad options by name", async () => {
    const cache = cachingResolver(counting({}).resolver);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(cache.resolve("a", 4, controller.signal), /stop/);
    assert.throws(() => cachingResolver(counting({}).resolver, { maxEntries: 0 }), /maxEntries/);
    assert.throws(() => cachingResolver(counting({}).resolver, { maxTtl: -1 }), /maxTtl/);
    assert.throws(() => cachingResolver(null as unknown as Resolver), /resolver/);
  });
});

describe("cache controls (issue 17)", () => {
  it("stats count entries, hits, misses and evictions; delete forgets a name; clear forgets all", async () => {
    const clock = new FakeClock();
    const inner = counting({ "a.example": 60, "b.example": 60, "c.example": 60 });
    const cache = cachingResolver(inner.resolver, { clock, maxEntries: 2 });
    await cache.resolve("a.example", 4, open());
    await cache.resolve("a.example", 4, open());
    await cache.resolve("b.example", 4, open());
    await cache.resolve("a.example", 4, open()); // a hit: a is now the newest
    await cache.resolve("c.example", 4, open()); // evicts b, the least recently used
    assert.deepEqual(cache.stats(), { entries: 2, hits: 2, misses: 3, evictions: 1, stale: 0 });
    await cache.resolve("a.example", 4, open());
    assert.equal(cache.stats().hits, 3, "a survived the eviction");
    cache.delete("A.example");
    await cache.resolve("a.example", 4, open());
    assert.equal(cache.stats().misses, 4);
    cache.clear();
    assert.deepEqual(cache.stats(), { entries: 0, hits: 0, misses: 0, evictions: 0, stale: 0 });
  });

  it("prefetch asks both families now, so the next lookups are hits; it never rejects", async () => {
    const clock = new FakeClock();
    const inner = counting({ "a.example": 60 });
    const cache = cachingResolver(inner.resolver, { clock });
    await cache.prefetch("a.example");
    assert.deepEqual(inner.asked.sort(), ["a.example/4", "a.example/6"]);
    await cache.resolve("a.example", 6, open());
    assert.equal(cache.stats().hits, 1);
    const failing = cachingResolver({
      resolve: () => Promise.reject(new Error("down")),
      resolveWithTtl: () => Promise.reject(new Error("down")),
    }, { clock });
    await failing.prefetch("a.example");
  });

  it("an answer is never served past its TTL unless serve-stale is on; then it is, and refreshed behind", async () => {
    const clock = new FakeClock();
    const strict = counting({ "a.example": 2 });
    const plain = cachingResolver(strict.resolver, { clock });
    await plain.resolve("a.example", 4, open());
    await clock.advance(2500);
    await plain.resolve("a.example", 4, open());
    assert.equal(strict.asked.length, 2, "an expired answer was served");

    const inner = counting({ "a.example": 2 }, true);
    const cache = cachingResolver(inner.resolver, { clock, serveStale: 30 });
    const first = cache.resolveWithTtl("a.example", 4, open());
    inner.release.shift()!();
    await first;
    await clock.advance(2500); // expired 0.5 s ago: within the 30 s of serve-stale
    assert.deepEqual(await cache.resolveWithTtl("a.example", 4, open()), { addresses: ["192.0.2.1"], ttl: 0 });
    assert.equal(inner.asked.length, 2, "no refresh behind the stale answer");
    assert.equal(cache.stats().stale, 1);
    inner.release.shift()!(); // the refresh lands
    await clock.advance(0);
    const fresh = await cache.resolveWithTtl("a.example", 4, open());
    assert.equal(fresh.ttl, 2, "the refreshed answer is served with its own TTL");
    await clock.advance(40_000); // past the window: asked again, not served stale
    const late = cache.resolveWithTtl("a.example", 4, open());
    assert.equal(inner.asked.length, 3);
    inner.release.shift()!();
    await late;
  });

  it("rejects a bad serveStale, naming it", () => {
    assert.throws(() => cachingResolver(counting({}).resolver, { serveStale: -1 }), { message: /serveStale/ });
  });
});
