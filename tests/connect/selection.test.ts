import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import { ConnectError } from "../../src/base/errors.ts";
import { MemoryHistory } from "../../src/history/history.ts";
import { denyAddresses, INTERNAL_CATEGORIES, PolicyRefusal } from "../../src/addresses/policy.ts";
import { parseNat64Prefix, synthesizeNat64 } from "../../src/addresses/nat64.ts";
import type { ConnectEvent, Family, Resolver } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

function setup(
  answers: Parameters<typeof fakeResolver>[1],
  scripts: Record<string, Script>,
  options: Record<string, unknown> = {},
) {
  const clock = new FakeClock();
  const dialer = new FakeDialer(clock, scripts);
  const resolver = fakeResolver(clock, answers);
  const events: ConnectEvent[] = [];
  const result = connect({
    hostname: "name.test",
    port: 80,
    resolver,
    dialer,
    clock,
    onEvent: (e) => events.push(e),
    ...options,
  });
  result.catch(() => {});
  return { clock, dialer, resolver, events, result };
}

describe("address policy in connect", () => {
  it("refused addresses get no SYN and appear in the error as refused by policy", async () => {
    const t = setup(
      { 4: ["127.0.0.1", "192.0.2.1"], 6: ["::ffff:10.0.0.1"] },
      { "192.0.2.1": { fail: 10 } },
      { addressPolicy: denyAddresses(INTERNAL_CATEGORIES) },
    );
    await t.clock.advance(1000);
    const error = await t.result.then(() => assert.fail("connected"), (e) => e);
    assert.ok(error instanceof ConnectError);
    assert.deepEqual(t.dialer.dialed, ["192.0.2.1"]);
    assert.match(error.message, /127\.0\.0\.1 port 80: refused by policy \(loopback\)/);
    assert.match(
      error.message,
      /\[::ffff:10\.0\.0\.1\] port 80: refused by policy \(private \(IPv4-mapped 10\.0\.0\.1\)\)/,
    );
    const refusals = error.errors.filter((e) => e.cause instanceof PolicyRefusal);
    assert.equal(refusals.length, 2);
    const told = t.events.flatMap((e) => (e.type === "address-refused" ? [e.address] : []));
    assert.deepEqual(told.sort(), ["127.0.0.1", "::ffff:10.0.0.1"]);
  });

  it("a name whose every address is refused fails without a SYN, as soon as resolved", async () => {
    const t = setup({ 4: ["10.0.0.1"], 6: ["fd00::1"] }, {}, { addressPolicy: denyAddresses() });
    await t.clock.advance(0);
    const error = await t.result.then(() => assert.fail("connected"), (e) => e);
    assert.deepEqual(t.dialer.dialed, []);
    assert.equal(error.attempts.length, 0);
    assert.match(error.message, /10\.0\.0\.1 port 80: refused by policy \(private\)/);
    assert.match(error.message, /\[fd00::1\] port 80: refused by policy \(unique-local\)/);
  });

  it("an IP literal is checked too, and fails at once", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, {});
    await assert.rejects(
      connect({ hostname: "169.254.169.254", port: 80, dialer, clock, addressPolicy: denyAddresses() }),
      /169\.254\.169\.254 port 80: refused by policy \(link-local\)/,
    );
    assert.deepEqual(dialer.dialed, []);
  });

  it("DNS rebinding: the second answer (127.0.0.1) is checked again and refused", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "198.51.100.7": { connect: 5 } });
    let lookups = 0;
    // First a public-looking address (a documentation one: no real traffic), then loopback.
    const rebinding: Resolver = {
      resolve: (_n: string, family: Family) =>
        Promise.resolve(family === 6 ? [] : lookups++ === 0 ? ["198.51.100.7"] : ["127.0.0.1"]),
    };
    const options = { hostname: "rebind.test", port: 80, resolver: rebinding, dialer, clock, family: 4 as const };
    const policy = denyAddresses(INTERNAL_CATEGORIES);
    const first = connect({ ...options, addressPolicy: policy });
    await clock.advance(10);
    assert.equal((await first).address, "198.51.100.7");
    const second = connect({ ...options, addressPolicy: policy });
    second.catch(() => {});
    await clock.advance(10);
    await assert.rejects(second, /127\.0\.0\.1 port 80: refused by policy \(loopback\)/);
    assert.deepEqual(dialer.dialed, ["198.51.100.7"]);
  });

  it("checks the field", async () => {
    await assert.rejects(
      connect({
        hostname: "192.0.2.1",
        port: 80,
        dialer: new FakeDialer(new FakeClock(), {}),
        addressPolicy: 1 as never,
      }),
      /addressPolicy must be a function/,
    );
  });
});

describe("RFC 6724 order in connect", () => {
  const linkLocalOnly = ["::1", "127.0.0.1", "fe80::1", "192.0.2.2"];
  const globalV6 = ["::1", "127.0.0.1", "2001:db8::2", "192.0.2.2"];

  it("no global IPv6 source: IPv4 leads, and the Resolution Delay holds the IPv6 answer instead", async () => {
    const t = setup(
      { 4: ["198.51.100.1"], 6: ["2001:db8:5::1"], delay4: 30, delay6: 0 },
      { "198.51.100.1": { connect: 20 } },
      { sourceAddresses: linkLocalOnly },
    );
    await t.clock.advance(100);
    assert.equal((await t.result).address, "198.51.100.1");
    assert.deepEqual(t.dialer.dialed, ["198.51.100.1"], "no IPv6 SYN");
    // 'resolved' carries the arrival time: the IPv6 answer came first (0 ms), yet was held and never dialled.
    const answers = t.events.flatMap((e) => e.type === "resolved" ? [[e.family, e.atMs]] : []);
    assert.deepEqual(answers, [[6, 0], [4, 30]]);
  });

  it("history outranks RFC 6724: an IPv6 address that won before leads, even without a global IPv6 source", async () => {
    const clock = new FakeClock();
    const history = new MemoryHistory({ clock });
    history.record("name.test", 80, [{ address: "2001:db8:5::1", state: "connected", rttMs: 20 }]);
    const t = setup(
      // Both answers wait when the first address is taken, so the ranking (not arrival) picks the lead.
      { 4: ["198.51.100.1"], 6: ["2001:db8:5::1"], delay4: 0, delay6: 10 },
      { "2001:db8:5::1": { connect: 5 } },
      { sourceAddresses: linkLocalOnly, history },
    );
    await t.clock.advance(100);
    assert.equal((await t.result).address, "2001:db8:5::1");
    assert.deepEqual(t.dialer.dialed, ["2001:db8:5::1"]);
  });

  it("a global IPv6 source keeps IPv6 first", async () => {
    const t = setup({ 4: ["198.51.100.1"], 6: ["2001:db8:5::1"] }, { "2001:db8:5::1": { connect: 5 } }, {
      sourceAddresses: globalV6,
    });
    await t.clock.advance(100);
    assert.equal((await t.result).address, "2001:db8:5::1");
  });

  it("orders within a family: native IPv6 before Teredo and 6to4, whatever the resolver said", async () => {
    const t = setup(
      { 6: ["2001:0:4136:e378::1", "2002:c633:6401::1", "2001:db8:5::1"], 4: [] },
      {},
      { sourceAddresses: globalV6, schedule: () => 100 },
    );
    await t.clock.advance(1000);
    assert.deepEqual(t.dialer.dialed, ["2001:db8:5::1", "2002:c633:6401::1", "2001:0:4136:e378::1"]);
  });

  it("an explicit preferredFamily keeps the lead; RFC 6724 then orders within each family only", async () => {
    const t = setup({ 4: ["198.51.100.1"], 6: ["2001:db8:5::1"] }, {}, {
      sourceAddresses: linkLocalOnly,
      preferredFamily: 6,
      schedule: () => 100,
    });
    await t.clock.advance(300);
    assert.deepEqual(t.dialer.dialed, ["2001:db8:5::1", "198.51.100.1"]);
  });

  it("without sourceAddresses the resolver's order stands (IPv6 first)", async () => {
    const t = setup({ 4: ["198.51.100.1"], 6: ["2001:0:4136:e378::1", "2001:db8:5::1"] }, {}, {
      schedule: () => 100,
    });
    await t.clock.advance(400);
    assert.deepEqual(t.dialer.dialed, ["2001:0:4136:e378::1", "198.51.100.1", "2001:db8:5::1"]);
  });
});

describe("NAT64 in connect", () => {
  const ipv6Only = ["::1", "127.0.0.1", "fe80::1", "2001:db8::2"];
  // A network-specific prefix, 2001:db8:64::/96: the well-known one carries no documentation address (RFC 6052 §3.1).
  const dns64 = (
    answers: Partial<Record<Family, string[]>>,
    pref64Answer = "2001:db8:64::c000:aa",
  ): Resolver & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      resolve: (name: string, family: Family) => {
        asked.push(`${name}/${family}`);
        if (name === "ipv4only.arpa") return Promise.resolve(family === 6 ? [pref64Answer] : []);
        return Promise.resolve(answers[family] ?? []);
      },
    };
  };

  it("a connect that joins a discovery in flight keeps its own timeout and signal (issue 15, item 7)", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, {});
    // ipv4only.arpa never answers: the discovery runs until its own 2 s limit.
    const resolver: Resolver = { resolve: () => new Promise(() => {}) };
    const base = { port: 80, dialer, clock, resolver, sourceAddresses: ipv6Only, history: false as const };
    const first = connect({ ...base, hostname: "192.0.2.10" });
    first.catch(() => {});
    await clock.advance(10);
    let timedOutAt: number | undefined;
    const timed = connect({ ...base, hostname: "192.0.2.11", timeout: 100 });
    timed.catch(() => (timedOutAt = clock.now()));
    const controller = new AbortController();
    const aborted = connect({ ...base, hostname: "192.0.2.12", signal: controller.signal });
    aborted.catch(() => {});
    await clock.advance(50);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await clock.advance(100);
    await assert.rejects(timed, /timed out after 100 ms/);
    assert.equal(timedOutAt, 110);
    await assert.rejects(aborted, (e) => e === reason);
  });

  it("an IPv4 literal on an IPv6-only host is dialled through the discovered prefix", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "2001:db8:64::c000:20a": { connect: 5 } });
    const resolver = dns64({});
    const result = connect({ hostname: "192.0.2.10", port: 80, dialer, clock, resolver, sourceAddresses: ipv6Only });
    await clock.advance(10);
    const won = await result;
    assert.equal(won.address, "2001:db8:64::c000:20a");
    assert.deepEqual(dialer.dialed, ["2001:db8:64::c000:20a"]);
    assert.deepEqual(resolver.asked, ["ipv4only.arpa/6"]);
  });

  it("under the well-known prefix only global IPv4 is synthesized (RFC 6052 §3.1)", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "64:ff9b::808:808": { connect: 5 }, "192.0.2.10": { fail: 1 } });
    const resolver = dns64({ 4: ["192.0.2.11", "8.8.8.8", "10.0.0.1"] }, "64:ff9b::c000:aa");
    const base = { port: 80, dialer, clock, resolver, sourceAddresses: ipv6Only };
    const literal = connect({ ...base, hostname: "192.0.2.10" });
    literal.catch(() => {});
    await clock.advance(10);
    await assert.rejects(
      literal,
      /192\.0\.2\.10 port 80/,
      "a documentation literal is dialled as it is, not as 64:ff9b::c000:20a",
    );
    const name = connect({ ...base, hostname: "v4only.test" });
    await clock.advance(10);
    assert.equal((await name).address, "64:ff9b::808:808");
    assert.deepEqual(dialer.dialed, ["192.0.2.10", "64:ff9b::808:808"], "only the global address of the name");
  });

  it("an A-only name is synthesized; the policy sees the synthesized form", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "2001:db8:64::c000:20b": { connect: 5 } });
    const resolver = dns64({ 4: ["192.0.2.11", "127.0.0.1"] });
    const connectTo = (hostname: string, extra = {}) =>
      connect({ hostname, port: 80, dialer, clock, resolver, sourceAddresses: ipv6Only, ...extra });
    const result = connectTo("v4only.test", { addressPolicy: denyAddresses(INTERNAL_CATEGORIES) });
    await clock.advance(10);
    assert.equal((await result).address, "2001:db8:64::c000:20b");
    assert.deepEqual(dialer.dialed, ["2001:db8:64::c000:20b"], "127.0.0.1 is not translated");
    const nat64Refused = connectTo("10.0.0.1", { nat64Prefix: "2001:db8:64::/96", addressPolicy: denyAddresses() });
    nat64Refused.catch(() => {});
    await clock.advance(10);
    await assert.rejects(nat64Refused, /refused by policy \(private\)/);
  });

  it("a DNS64 answer for an internal IPv4 address is refused under the discovered prefix, well-known or not", async () => {
    for (
      const [pref64, internal, allowed] of [
        ["64:ff9b::", "64:ff9b::a00:1", "64:ff9b::c000:20a"],
        ["2001:db8:64::", "2001:db8:64::a00:1", "2001:db8:64::c000:20a"], // network-specific /96
        ["2001:db8:122:344::", "2001:db8:122:344:a:0:100:0", "2001:db8:122:344:c0:2:a00:0"], // network-specific /64
      ]
    ) {
      const clock = new FakeClock();
      const dialer = new FakeDialer(clock, { [allowed]: { connect: 5 } });
      const asked: string[] = [];
      const resolver: Resolver = {
        resolve: (name: string, family: Family) => {
          asked.push(`${name}/${family}`);
          if (family === 4) return Promise.resolve([]);
          if (name === "ipv4only.arpa") return Promise.resolve([synthesizeNat64("192.0.0.170", prefixOf(pref64))]);
          return Promise.resolve(name === "internal.test" ? [internal] : [allowed]);
        },
      };
      const base = { port: 80, dialer, clock, resolver, sourceAddresses: ipv6Only };
      const addressPolicy = denyAddresses(INTERNAL_CATEGORIES);
      const refused = connect({ ...base, hostname: "internal.test", addressPolicy });
      refused.catch(() => {});
      await clock.advance(10);
      await assert.rejects(refused, /refused by policy \(private \(NAT64 10\.0\.0\.1\)\)/, pref64);
      assert.deepEqual(dialer.dialed, [], `${pref64}: no SYN to ${internal}`);
      const ok = connect({ ...base, hostname: "public.test", addressPolicy });
      await clock.advance(10);
      assert.equal((await ok).address, allowed);
      assert.equal(asked.filter((a) => a.startsWith("ipv4only.arpa")).length, 1, "discovered once");
    }

    function prefixOf(prefix: string) {
      return parseNat64Prefix(`${prefix}/${prefix.startsWith("2001:db8:122:344") ? 64 : 96}`);
    }
  });

  it("no discovery and no synthesis on a host with an IPv4 route", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "192.0.2.10": { connect: 5 } });
    const resolver = dns64({});
    const result = connect({
      hostname: "192.0.2.10",
      port: 80,
      dialer,
      clock,
      resolver,
      sourceAddresses: [...ipv6Only, "192.0.2.2"],
    });
    await clock.advance(10);
    assert.equal((await result).address, "192.0.2.10");
    assert.deepEqual(resolver.asked, []);
  });

  it("no discovery on a host without IPv6 either (loopback only), nor for an IPv6 literal", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "127.0.0.1": { connect: 1 }, "2001:db8::10": { connect: 1 } });
    const resolver = dns64({});
    const loopbackOnly = connect({
      hostname: "127.0.0.1",
      port: 80,
      dialer,
      clock,
      resolver,
      sourceAddresses: ["127.0.0.1", "::1"],
    });
    const v6Literal = connect({
      hostname: "2001:db8::10",
      port: 80,
      dialer,
      clock,
      resolver,
      sourceAddresses: ipv6Only,
    });
    await clock.advance(10);
    assert.equal((await loopbackOnly).address, "127.0.0.1");
    assert.equal((await v6Literal).address, "2001:db8::10");
    assert.deepEqual(resolver.asked, []);
  });

  it("nat64Prefix: false turns it off; a bad prefix is named", async () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer(clock, { "192.0.2.10": { connect: 5 } });
    const resolver = dns64({});
    const base = { hostname: "192.0.2.10", port: 80, dialer, clock, resolver, sourceAddresses: ipv6Only };
    const result = connect({ ...base, nat64Prefix: false });
    await clock.advance(10);
    assert.equal((await result).address, "192.0.2.10");
    assert.deepEqual(resolver.asked, []);
    await assert.rejects(connect({ ...base, nat64Prefix: "64:ff9b::/95" }), /nat64Prefix must be an IPv6 prefix/);
  });
});
