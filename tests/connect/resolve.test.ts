import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import { AddressQueue } from "../../src/race/queue.ts";
import { resolveInto } from "../../src/connect/resolve.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { ConnectEvent } from "../../src/base/types.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, fakeResolver, type Script } from "../helpers/fake_dialer.ts";

function setup(answers: Parameters<typeof fakeResolver>[1], scripts: Record<string, Script> = {}, options = {}) {
  const clock = new FakeClock();
  const dialer = new FakeDialer(clock, scripts);
  const resolver = fakeResolver(clock, answers);
  const events: ConnectEvent[] = [];
  const result = connect({
    hostname: "dual.test",
    port: 443,
    clock,
    dialer,
    resolver,
    schedule: fixedDelay(250),
    onEvent: (e) => events.push(e),
    ...options,
  });
  result.catch(() => {});
  const starts = () => events.flatMap((e) => (e.type === "attempt-start" ? [`${e.atMs} ${e.attempt.address}`] : []));
  return { clock, dialer, resolver, result, events, starts };
}

describe("resolution", () => {
  it("asks both families at once", async () => {
    const t = setup({ 6: ["2001:db8::1"], 4: ["192.0.2.1"] });
    await t.clock.advance(0);
    assert.deepEqual(t.resolver.calls.sort(), [4, 6]);
  });

  it("an IPv4 answer waits up to the Resolution Delay for IPv6, which then goes first", async () => {
    const t = setup({ 6: ["2001:db8::1"], 4: ["192.0.2.1"], delay4: 0, delay6: 30 });
    await t.clock.advance(300);
    assert.deepEqual(t.starts(), ["30 2001:db8::1", "280 192.0.2.1"]);
  });

  it("a slow AAAA answer does not hold IPv4 back beyond the 50 ms Resolution Delay", async () => {
    const t = setup({ 6: ["2001:db8::1"], 4: ["192.0.2.1", "192.0.2.2"], delay4: 10, delay6: 200 });
    await t.clock.advance(100);
    assert.deepEqual(t.starts(), ["60 192.0.2.1"]);
    await t.clock.advance(600);
    // The late IPv6 address joins the running race, ahead of the second IPv4 one.
    assert.deepEqual(t.starts(), ["60 192.0.2.1", "310 2001:db8::1", "560 192.0.2.2"]);
  });

  it("an IPv6 answer starts at once; late IPv4 addresses join the race", async () => {
    const t = setup({ 6: ["2001:db8::1"], 4: ["192.0.2.1"], delay4: 400, delay6: 5 });
    await t.clock.advance(300);
    assert.deepEqual(t.starts(), ["5 2001:db8::1"]);
    await t.clock.advance(200);
    assert.deepEqual(t.starts(), ["5 2001:db8::1", "400 192.0.2.1"]); // the delay had passed: at once
  });

  it("IP literals skip resolution", async () => {
    const t = setup({ hang: true }, { "2001:db8::1": { connect: 1 } }, { hostname: "[2001:DB8::1]" });
    await t.clock.advance(10);
    assert.equal((await t.result).address, "2001:db8::1");
    assert.deepEqual(t.resolver.calls, []);
  });

  it("one family failing does not stop the other", async () => {
    const t = setup({ 6: new Error("SERVFAIL"), 4: ["192.0.2.1"] }, { "192.0.2.1": { connect: 5 } });
    await t.clock.advance(100);
    assert.equal((await t.result).address, "192.0.2.1");
    assert.ok(t.events.some((e) => e.type === "resolve-failed" && e.family === 6));
  });

  it("both families failing: an AggregateError naming the name, each family and why", async () => {
    const nx = Object.assign(new Error("getaddrinfo ENOTFOUND dual.test"), { code: "ENOTFOUND" });
    const t = setup({ 6: nx, 4: nx });
    await t.clock.advance(100);
    const error = await t.result.then(() => assert.fail("should fail"), (e) => e);
    assert.ok(error instanceof AggregateError);
    assert.match(error.message, /dual\.test IPv6 \(AAAA\): not found/);
    assert.match(error.message, /dual\.test IPv4 \(A\): not found/);
    assert.deepEqual(error.errors.map((e: { name: string; family: number }) => [e.name, e.family]), [
      ["ResolveError", 6],
      ["ResolveError", 4],
    ]);
  });

  it("a resolver returning garbage is a resolution failure naming the entry", async () => {
    const t = setup({ 6: ["not-an-ip"], 4: [] });
    await t.clock.advance(100);
    const error = await t.result.then(() => assert.fail("should fail"), (e) => e);
    assert.match(error.message, /IPv6 \(AAAA\): not an IPv6 address: "not-an-ip"/);
    assert.deepEqual(t.dialer.dialed, []);
  });

  it("answers parsed once are still canonical, per family, and safe from callers changing them", async () => {
    const answer6 = ["2001:DB8:0:0::1"]; // the same array every time, not canonical
    const answer4 = ["192.0.2.1"]; // parsed (and remembered) as IPv4 by every connect below
    const resolver = { resolve: (_name: string, family: 4 | 6) => Promise.resolve(family === 6 ? answer6 : answer4) };
    const dialed: string[] = [];
    const dialer = { dial: (t: { address: string }) => Promise.resolve(dialed.push(t.address)), close() {} };
    const seen: string[][] = [];
    const once = (family?: 6) =>
      connect({
        family,
        hostname: "memo.test",
        port: 443,
        resolver,
        dialer,
        history: false,
        onEvent: (e) => e.type === "resolved" && seen.push(e.addresses as string[]),
      });
    await once();
    seen[0][0] = "caller-changed"; // a kept answer changed afterwards must not reach the next connect
    await once();
    answer6[0] = "2001:db8::2"; // the resolver changes its answer in place
    await once();
    assert.deepEqual(dialed, ["2001:db8::1", "2001:db8::1", "2001:db8::2"]);
    answer6[0] = "192.0.2.1"; // canonical IPv4 is still no IPv6 answer
    await assert.rejects(once(6), /not an IPv6 address: "192\.0\.2\.1"/);
  });

  it("no address at all: the error says so", async () => {
    const t = setup({ 6: [], 4: [] });
    await t.clock.advance(100);
    await assert.rejects(t.result, /dual\.test port 443:\n {2}no address to try/);
  });

  it("silent DNS and a timeout: the error names each family as timed out", async () => {
    const t = setup({ hang: true }, {}, { timeout: 2000 });
    await t.clock.advance(2000);
    const error = await t.result.then(() => assert.fail("should time out"), (e) => e);
    assert.match(error.message, /timed out after 2000 ms to dual\.test/);
    assert.match(error.message, /IPv6 \(AAAA\): timed out/);
    assert.match(error.message, /IPv4 \(A\): timed out/);
    assert.equal(t.clock.pending, 0);
  });

  it("family: 4 asks only for A records", async () => {
    const t = setup({ 6: ["2001:db8::1"], 4: ["192.0.2.1"] }, { "192.0.2.1": { connect: 1 } }, { family: 4 });
    await t.clock.advance(10);
    assert.equal((await t.result).family, 4);
    assert.deepEqual(t.resolver.calls, [4]);
  });

  it("the resolved event carries the time the answer arrived, not when the Resolution Delay released it", async () => {
    const t = setup({ 6: ["2001:db8::1"], 4: ["192.0.2.1"], delay4: 10, delay6: 30 });
    await t.clock.advance(100);
    const resolved = t.events.flatMap((e) => (e.type === "resolved" ? [`${e.atMs} IPv${e.family}`] : []));
    assert.deepEqual(resolved, ["10 IPv4", "30 IPv6"]);
    assert.deepEqual(t.starts(), ["30 2001:db8::1"]); // IPv4 was still held back until IPv6 came
  });

  /** A resolver whose A answer comes at 5 ms and whose AAAA lookup never settles, deaf to its signal. */
  const deafAAAA = (clock: FakeClock) => ({
    resolve: (_name: string, family: 4 | 6) =>
      new Promise<string[]>((resolve) => family === 4 && clock.setTimer(() => resolve(["192.0.2.1"]), 5)),
  });

  for (const [how, options] of [["a timeout", { timeout: 20 }], ["an abort", {}]] as const) {
    it(`${how} during the Resolution Delay cancels its timer: nothing runs, nothing is told after`, async () => {
      const clock = new FakeClock();
      const controller = new AbortController();
      const dialer = new FakeDialer(clock, {});
      const events: ConnectEvent[] = [];
      const result = connect({
        hostname: "dual.test",
        port: 443,
        clock,
        dialer,
        resolver: deafAAAA(clock),
        signal: controller.signal,
        onEvent: (e) => events.push(e),
        ...options,
      });
      let told: number | undefined;
      result.catch(() => {}).finally(() => (told = events.length));
      await clock.advance(10); // the A answer is held, waiting for AAAA
      clock.setTimer(() => controller.abort(new Error("stop")), 10);
      await clock.advance(10);
      await assert.rejects(result, /stop|timed out after 20 ms/);
      assert.equal(clock.pending, 0, "the Resolution Delay timer is still pending");
      await clock.advance(1000);
      assert.equal(events.length, told, `events after the connect settled: ${events.map((e) => e.type)}`);
      assert.deepEqual(dialer.dialed, []);
    });
  }

  it("resolveInto: an emit that throws loses no answer and ends the queue only when both families are in", async () => {
    const clock = new FakeClock();
    const queue = new AddressQueue(443, { preferredFamily: 6, firstAddressFamilyCount: 1 });
    resolveInto(queue, {
      hostname: "dual.test",
      families: [6, 4],
      resolutionDelay: 50,
      clock,
      startedAt: 0,
      signal: new AbortController().signal,
      resolver: fakeResolver(clock, { 6: new Error("SERVFAIL"), 4: ["192.0.2.1"], delay6: 0, delay4: 100 }),
      emit: (e) => {
        throw new Error(`observer broke on ${e.type}`);
      },
    });
    await clock.advance(10);
    assert.equal(queue.ended, false, "ended before the A answer");
    await clock.advance(100);
    assert.equal(queue.take()?.address, "192.0.2.1");
    assert.equal(queue.ended, true);
  });
});
