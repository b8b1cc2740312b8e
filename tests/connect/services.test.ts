/**
 * HTTPS/SVCB records feeding the race (draft-ietf-happy-happyeyeballs-v3 §4, RFC 9460), with a fake resolver
 * on a fake clock: hints, their replacement, priority groups, ALPN filtering, the record's port, what connect
 * reports, and the events that say why.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import type { ConnectEvent, Family, ServiceAnswer, ServiceParams, ServiceRecord } from "../../src/base/types.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import { FakeClock } from "../helpers/fake_clock.ts";
import { FakeDialer, type Script } from "../helpers/fake_dialer.ts";

type Zone = Record<string, { 4?: string[]; 6?: string[]; delay4?: number; delay6?: number }>;

/** A resolver with HTTPS records: `services` answers after `servicesDelay` ms (never when "hang"). */
function zoneResolver(
  clock: FakeClock,
  zone: Zone,
  services: ServiceAnswer | undefined | Error,
  servicesDelay: number | "hang" = 0,
) {
  const asked: string[] = [];
  const later = <T>(signal: AbortSignal, ms: number | "hang", value: () => T | Error) =>
    new Promise<T>((resolve, reject) => {
      let cancel = () => {};
      signal.addEventListener("abort", () => (cancel(), reject(signal.reason)), { once: true });
      if (ms === "hang") return;
      cancel = clock.setTimer(() => {
        const v = value();
        if (v instanceof Error) reject(v);
        else resolve(v);
      }, ms);
    });
  return {
    asked,
    resolve(name: string, family: Family, signal: AbortSignal): Promise<string[]> {
      asked.push(`${name} ${family === 6 ? "AAAA" : "A"}`);
      const entry = zone[name];
      return later(signal, entry?.[`delay${family}`] ?? 0, () => entry?.[family] ?? []);
    },
    resolveServices(name: string, port: number, signal: AbortSignal): Promise<ServiceAnswer | undefined> {
      asked.push(`${name} HTTPS ${port}`);
      return later(signal, servicesDelay, () => services);
    },
  };
}

const params = (p: Partial<ServiceParams> = {}): ServiceParams => ({ noDefaultAlpn: false, unknown: [], ...p });
const record = (priority: number, target: string, p: Partial<ServiceParams> = {}): ServiceRecord => ({
  priority,
  target,
  params: params(p),
});
const answer = (...records: ServiceRecord[]): ServiceAnswer => ({ name: "svc.test", records, skipped: [], ttl: 60 });

function run(
  clock: FakeClock,
  resolver: ReturnType<typeof zoneResolver>,
  scripts: Record<string, Script>,
  options: Record<string, unknown> = {},
) {
  const dialer = new FakeDialer(clock, scripts);
  const events: ConnectEvent[] = [];
  const ports: string[] = [];
  const result = connect({
    hostname: "svc.test",
    port: 443,
    clock,
    dialer,
    resolver,
    history: false,
    schedule: fixedDelay(50),
    onEvent: (e) => {
      events.push(e);
      if (e.type === "attempt-start") ports.push(`${e.attempt.address} ${e.attempt.port}`);
    },
    ...options,
  });
  result.catch(() => {});
  return { dialer, events, ports, result };
}

const types = (events: ConnectEvent[]) => events.map((e) => e.type);

describe("HTTPS records in the race", () => {
  it("hints count as addresses: the race starts on them without waiting for late A/AAAA", async () => {
    const clock = new FakeClock();
    const resolver = zoneResolver(
      clock,
      { "svc.test": { 6: ["2001:db8::6"], 4: ["192.0.2.4"], delay6: 400, delay4: 400 } },
      answer(record(1, "svc.test", { ipv6hint: ["2001:db8::6"], ipv4hint: ["192.0.2.4"] })),
    );
    const { dialer, events, result } = run(clock, resolver, { "2001:db8::6": { connect: 10 } });
    await clock.advance(500);
    const won = await result;
    assert.equal(won.address, "2001:db8::6");
    assert.deepEqual(dialer.dialed, ["2001:db8::6"]);
    assert.deepEqual(resolver.asked, ["svc.test HTTPS 443", "svc.test AAAA", "svc.test A"]); // the draft's order
    const t = types(events);
    assert.ok(t.indexOf("service-records") < t.indexOf("attempt-start"));
    assert.equal(t.indexOf("resolved"), -1, "won before any A/AAAA answer came");
    assert.deepEqual(won.endpoint, { target: "svc.test", priority: 1, port: 443, alpn: ["http/1.1"] });
  });

  it("the real answer replaces the hints: a hint it lacks is dropped before it is dialled", async () => {
    const clock = new FakeClock();
    const resolver = zoneResolver(
      clock,
      { "svc.test": { 6: ["2001:db8::1", "2001:db8::3"], delay6: 5, 4: [], delay4: 5 } },
      answer(record(1, "svc.test", { ipv6hint: ["2001:db8::1", "2001:db8::2"] })),
    );
    const { dialer, events, result } = run(clock, resolver, { "2001:db8::3": { connect: 10 } });
    await clock.advance(500);
    assert.equal((await result).address, "2001:db8::3");
    assert.deepEqual(dialer.dialed, ["2001:db8::1", "2001:db8::3"]); // ::2, a stale hint, got no SYN
    const replaced = events.find((e) => e.type === "hints-replaced");
    assert.ok(replaced?.type === "hints-replaced");
    assert.deepEqual([replaced.family, replaced.dropped], [6, ["2001:db8::2"]]);
  });

  it("priority groups go first (lowest first), addresses without a record last; each endpoint's port", async () => {
    const clock = new FakeClock();
    const resolver = zoneResolver(
      clock,
      {
        "svc.test": { 6: ["2001:db8::99"], 4: ["192.0.2.99"] },
        "b.test": { 4: ["192.0.2.2"], 6: [] },
        "a.test": { 6: ["2001:db8::1"], 4: ["192.0.2.1"] },
      },
      answer(record(2, "b.test"), record(1, "a.test", { port: 8443 })),
    );
    const { ports, result } = run(clock, resolver, {}, { timeout: 500 });
    await clock.advance(1000);
    await assert.rejects(result);
    assert.deepEqual(ports, [
      "2001:db8::1 8443",
      "192.0.2.1 8443",
      "192.0.2.2 443",
      "2001:db8::99 443",
      "192.0.2.99 443",
    ]);
  });

  it("after an alias chain, its final name is an endpoint itself: after its records, before the name's own (RFC 9460 §3)", async () => {
    const clock = new FakeClock();
    const resolver = zoneResolver(
      clock,
      {
        "svc.test": { 6: [], 4: ["192.0.2.99"] },
        "edge.test": { 6: ["2001:db8::e"], 4: ["192.0.2.14"] },
        "other.test": { 4: ["192.0.2.2"], 6: [] },
      },
      { name: "edge.test", aliased: true, records: [record(1, "other.test")], skipped: [], ttl: 60 },
    );
    const { ports, events, result } = run(clock, resolver, {}, { timeout: 500 });
    await clock.advance(1000);
    await assert.rejects(result);
    assert.deepEqual(ports, ["192.0.2.2 443", "2001:db8::e 443", "192.0.2.14 443", "192.0.2.99 443"]);
    assert.ok(!events.some((e) => e.type === "endpoint-skipped"));
  });

  it("an alias target with no records of its own is still reached; the name needs no address", async () => {
    const clock = new FakeClock();
    const resolver = zoneResolver(
      clock,
      { "edge.test": { 6: ["2001:db8::e"], 4: [] } },
      { name: "edge.test", aliased: true, records: [], skipped: [], ttl: 60 },
    );
    const { dialer, result } = run(clock, resolver, { "2001:db8::e": { connect: 10 } });
    await clock.advance(500);
    const won = await result;
    assert.deepEqual([won.address, dialer.dialed], ["2001:db8::e", ["2001:db8::e"]]);
    assert.deepEqual(won.endpoint, { target: "edge.test", priority: 0, port: 443, alpn: ["http/1.1"] });
  });

  it("equal priorities are shuffled: both orders happen, and each keeps its own group", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const clock = new FakeClock();
      const resolver = zoneResolver(
        clock,
        { "a.test": { 4: ["192.0.2.1"] }, "b.test": { 4: ["192.0.2.2"] } },
        answer(record(1, "a.test"), record(1, "b.test")),
      );
      const { dialer, result } = run(clock, resolver, {}, { timeout: 500 });
      await clock.advance(1000);
      await assert.rejects(result);
      seen.add(dialer.dialed.join(" "));
    }
    assert.deepEqual([...seen].sort(), ["192.0.2.1 192.0.2.2", "192.0.2.2 192.0.2.1"]);
  });

  it("ALPN: an h3-only endpoint is skipped by a TCP connect, with an event saying why; the caller's list filters", async () => {
    const clock = new FakeClock();
    const ech = new Uint8Array([0, 4, 0xfe, 0x0d, 0, 0]);
    const resolver = zoneResolver(
      clock,
      { "svc.test": { 4: ["192.0.2.9"] }, "quic.test": { 4: ["192.0.2.3"] } },
      answer(
        record(1, "quic.test", { alpn: ["h3"], noDefaultAlpn: true, ipv4hint: ["192.0.2.3"] }),
        record(2, "svc.test", { alpn: ["h2"], ech }),
      ),
    );
    const tcp = run(clock, resolver, { "192.0.2.9": { connect: 5 } });
    await clock.advance(100);
    const won = await tcp.result;
    assert.equal(won.address, "192.0.2.9");
    assert.deepEqual(tcp.dialer.dialed, ["192.0.2.9"]); // quic.test's hint got no SYN
    const skipped = tcp.events.find((e) => e.type === "endpoint-skipped");
    assert.ok(skipped?.type === "endpoint-skipped");
    assert.deepEqual([skipped.target, skipped.priority], ["quic.test", 1]);
    assert.match(skipped.reason, /no ALPN in common: the endpoint offers h3, the caller any protocol over TCP/);
    assert.deepEqual(won.endpoint, { target: "svc.test", priority: 2, port: 443, alpn: ["h2", "http/1.1"], ech });

    // A caller that speaks only http/1.1 and h2 against an endpoint offering h2 only by no-default-alpn: h2.
    const only = zoneResolver(
      clock,
      { "svc.test": { 4: ["192.0.2.9"] } },
      answer(record(1, "svc.test", { alpn: ["h2"], noDefaultAlpn: true })),
    );
    const h1 = run(clock, only, { "192.0.2.9": { connect: 5 } }, { alpn: ["http/1.1"] });
    await clock.advance(100);
    assert.equal((await h1.result).endpoint, undefined); // skipped: its addresses came as plain A, no endpoint
    assert.ok(h1.events.some((e) => e.type === "endpoint-skipped"));
  });

  it("the Resolution Delay covers the HTTPS answer: A/AAAA wait for it, up to the delay", async () => {
    const clock = new FakeClock();
    const zone: Zone = { "svc.test": { 6: ["2001:db8::5"], 4: ["192.0.2.5"] }, "a.test": { 4: ["192.0.2.1"] } };
    const waited = run(clock, zoneResolver(clock, zone, answer(record(1, "a.test")), 20), {
      "192.0.2.1": { connect: 5 },
    });
    await clock.advance(200);
    assert.equal((await waited.result).address, "192.0.2.1"); // the record's endpoint, though A/AAAA came first
    const t = types(waited.events);
    assert.ok(t.indexOf("service-records") < t.indexOf("attempt-start"));

    const silent = run(clock, zoneResolver(clock, zone, answer(), "hang"), { "2001:db8::5": { connect: 5 } });
    await clock.advance(200);
    const won = await silent.result;
    assert.equal(won.address, "2001:db8::5"); // no HTTPS answer: after the delay the race runs on A/AAAA
    assert.equal(types(silent.events).includes("service-records"), false);
  });

  it("a failed HTTPS lookup or a resolver without one changes nothing but an event", async () => {
    const clock = new FakeClock();
    const zone: Zone = { "svc.test": { 6: ["2001:db8::5"], 4: ["192.0.2.5"] } };
    const failed = run(clock, zoneResolver(clock, zone, new Error("SERVFAIL")), { "2001:db8::5": { connect: 5 } });
    await clock.advance(200);
    assert.equal((await failed.result).address, "2001:db8::5");
    const records = failed.events.find((e) => e.type === "service-records");
    assert.ok(records?.type === "service-records");
    assert.match(records.skipped[0].reason, /HTTPS\/SVCB lookup failed: SERVFAIL/);
  });

  it("rejects bad alpn and scheme options, naming the field", async () => {
    const clock = new FakeClock();
    const resolver = zoneResolver(clock, {}, undefined);
    await assert.rejects(run(clock, resolver, {}, { alpn: "h2" }).result, /alpn must be an array/);
    await assert.rejects(run(clock, resolver, {}, { alpn: ["h2", ""] }).result, /alpn\[1\] must be a protocol id/);
    await assert.rejects(run(clock, resolver, {}, { scheme: "no scheme" }).result, /scheme must be a URI scheme/);
  });
});
