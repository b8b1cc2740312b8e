import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/connect/connect.ts";
import { fixedDelay, halving } from "../../src/race/schedule.ts";
import type { Dialer } from "../../src/base/types.ts";

/** A dialer that records whether anything was dialled. */
function spyDialer() {
  const dialed: string[] = [];
  const dialer: Dialer<string> = {
    dial: (t) => (dialed.push(t.address), Promise.resolve(t.address)),
    close: () => {},
  };
  return { dialed, dialer };
}

const resolver = { resolve: () => Promise.resolve(["127.0.0.1"]) };
/** A signal that has already fired with `reason`. */
function aborted(reason?: unknown): AbortSignal {
  const c = new AbortController();
  c.abort(reason);
  return c.signal;
}

// [what, bad options, error class, field named in the message]
const cases: Array<[string, Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp]> = [
  ["port 0", { port: 0 }, RangeError, /^port must be an integer from 1 to 65535, got 0$/],
  ["port 65536", { port: 65536 }, RangeError, /^port/],
  ["port -1", { port: -1 }, RangeError, /^port/],
  ["port 80.5", { port: 80.5 }, RangeError, /^port/],
  ["port NaN", { port: NaN }, RangeError, /^port/],
  ["port as a string", { port: "80" }, TypeError, /^port must be a number, got "80"/],
  ["port missing", { port: undefined }, TypeError, /^port/],
  ["hostname empty", { hostname: "" }, RangeError, /^hostname must not be empty/],
  ["hostname not a string", { hostname: 42 }, TypeError, /^hostname must be a string/],
  [
    "hostname too long",
    { hostname: `${"a".repeat(60)}.`.repeat(5) + "com" },
    RangeError,
    /^hostname is \d+ characters/,
  ],
  ["hostname label too long", { hostname: `${"a".repeat(64)}.com` }, RangeError, /^hostname .* label of 64 characters/],
  ["hostname empty label", { hostname: "a..com" }, RangeError, /^hostname .* empty label/],
  ["hostname leading hyphen", { hostname: "-a.com" }, RangeError, /^hostname .* invalid label/],
  ["hostname with space", { hostname: "a b.com" }, RangeError, /^hostname .* invalid label/],
  ["hostname non-ASCII", { hostname: "bücher.example" }, RangeError, /^hostname .* punycode/],
  ["hostname with IPv6 zone", { hostname: "fe80::1%eth0" }, RangeError, /^hostname .* zone/],
  ["hostname half-bracketed", { hostname: "[::1" }, RangeError, /^hostname .* not a valid IPv6/],
  ["hostname bad IPv6", { hostname: "1::2::3" }, RangeError, /^hostname .* not a valid IPv6/],
  ["hostname bad IPv4", { hostname: "256.1.1.1" }, RangeError, /^hostname .* not a valid IPv4/],
  ["hostname with a port", { hostname: "example.com:80" }, RangeError, /^hostname .* not a valid IPv6/],
  ["schedule not a function", { schedule: 250 }, TypeError, /^schedule must be a function/],
  ["resolutionDelay negative", { resolutionDelay: -1 }, RangeError, /^resolutionDelay/],
  ["resolutionDelay NaN", { resolutionDelay: NaN }, RangeError, /^resolutionDelay/],
  ["timeout 0", { timeout: 0 }, RangeError, /^timeout/],
  ["timeout negative", { timeout: -5 }, RangeError, /^timeout/],
  ["timeout Infinity", { timeout: Infinity }, RangeError, /^timeout/],
  ["timeout as a string", { timeout: "5s" }, TypeError, /^timeout/],
  ["firstAddressFamilyCount 0", { firstAddressFamilyCount: 0 }, RangeError, /^firstAddressFamilyCount/],
  ["maxAttemptsInFlight 0", { maxAttemptsInFlight: 0 }, RangeError, /^maxAttemptsInFlight/],
  ["maxAttemptsInFlight 1.5", { maxAttemptsInFlight: 1.5 }, RangeError, /^maxAttemptsInFlight/],
  ["family 5", { family: 5 }, RangeError, /^family must be 4 or 6/],
  ["preferredFamily 'ipv6'", { preferredFamily: "ipv6" }, RangeError, /^preferredFamily/],
  [
    "family mismatching the literal",
    { hostname: "127.0.0.1", family: 6 },
    RangeError,
    /^hostname 127\.0\.0\.1 is IPv4 but family is 6/,
  ],
  ["signal not a signal", { signal: "stop" }, TypeError, /^signal must be an AbortSignal/],
  ["onEvent not a function", { onEvent: {} }, TypeError, /^onEvent must be a function/],
  ["dialer missing", { dialer: undefined }, TypeError, /^dialer must be an object/],
  ["dialer without close", { dialer: { dial: () => Promise.resolve(1) } }, TypeError, /^dialer\.close/],
  ["resolver missing for a name", { hostname: "example.com", resolver: undefined }, TypeError, /^resolver is required/],
  ["resolver without resolve", { hostname: "example.com", resolver: {} }, TypeError, /^resolver\.resolve/],
  ["clock without setTimer", { clock: { now: () => 0 } }, TypeError, /^clock\.setTimer/],
];

describe("bad input is refused before any socket opens", () => {
  for (const [what, bad, type, field] of cases) {
    it(what, async () => {
      const spy = spyDialer();
      const options = { hostname: "example.com", port: 80, dialer: spy.dialer, resolver, ...bad };
      await assert.rejects(connect(options as never), (error: Error) => {
        assert.ok(error instanceof type, `${error.name}: ${error.message}`);
        assert.match(error.message, field);
        return true;
      });
      assert.deepEqual(spy.dialed, []);
    });
  }

  it("schedule factories check their arguments", () => {
    assert.throws(() => fixedDelay(-1), {
      name: "RangeError",
      message: /^fixedDelay\(ms\) must be a finite number ≥ 0, got -1$/,
    });
    assert.throws(() => fixedDelay(NaN), { name: "RangeError", message: /^fixedDelay\(ms\)/ });
    assert.throws(() => halving(-5), { name: "RangeError", message: /^halving\(first\)/ });
    assert.throws(() => halving("500" as unknown as number), { name: "TypeError", message: /^halving\(first\)/ });
    assert.throws(() => halving(500, { min: -1 }), { name: "RangeError", message: /^halving\(options\.min\)/ });
  });

  it("options that are not an object", async () => {
    await assert.rejects(connect(null as never), { name: "TypeError", message: /^options must be an object/ });
  });

  it("accepts the valid edge values", async () => {
    for (const port of [1, 65535]) {
      const { dialed, dialer } = spyDialer();
      await connect({ hostname: "[::1]", port, dialer });
      assert.deepEqual(dialed, ["::1"]);
    }
    const { dialer } = spyDialer();
    const name = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`; // 253
    assert.equal((await connect({ hostname: name + ".", port: 80, dialer, resolver })).address, "127.0.0.1");
  });
});

describe("a signal that has already fired", () => {
  it("rejects with the signal's reason (as fetch, Deno.connect and net.connect do), resolving and dialling nothing", async () => {
    const reason = new Error("the user left");
    const spy = spyDialer();
    const asked: number[] = [];
    const lookup = { resolve: (_n: string, f: number) => (asked.push(f), Promise.resolve(["127.0.0.1"])) };
    await assert.rejects(
      connect({ hostname: "example.com", port: 80, dialer: spy.dialer, resolver: lookup, signal: aborted(reason) }),
      (error) => error === reason,
    );
    assert.deepEqual(spy.dialed, []);
    assert.deepEqual(asked, []);
  });

  it("the default reason is the runtime's AbortError; any value passes through as is", async () => {
    const spy = spyDialer();
    await assert.rejects(connect({ hostname: "[::1]", port: 80, dialer: spy.dialer, signal: aborted() }), {
      name: "AbortError",
    });
    for (const reason of ["stop", 42, null]) {
      const error = await connect({ hostname: "[::1]", port: 80, dialer: spy.dialer, signal: aborted(reason) })
        .then(() => "connected", (e) => e);
      assert.equal(error, reason);
    }
    assert.deepEqual(spy.dialed, []);
  });

  it("bad options are still reported first, naming the field", async () => {
    const spy = spyDialer();
    await assert.rejects(connect({ hostname: "[::1]", port: 0, dialer: spy.dialer, signal: aborted("stop") }), {
      name: "RangeError",
      message: /^port/,
    });
  });
});
