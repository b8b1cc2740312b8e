import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { raceSettings, scheduleOf } from "../../src/cli/settings.ts";
import { formatSummary, formatTimeline } from "../../src/cli/format.ts";
import { defaultSchedule } from "../../src/race/schedule.ts";
import { ADDRESS_CATEGORIES, INTERNAL_CATEGORIES } from "../../src/addresses/policy.ts";

/** The options of a connect command line. */
function options(...args: string[]) {
  const command = parseArgs(args);
  assert.equal(command.kind, "connect");
  return (command as Extract<typeof command, { kind: "connect" }>).options;
}

/** The first delays of a schedule, timer expiring each time. */
const delays = (args: string[]) =>
  [0, 1, 2, 3].map((expiries) => scheduleOf(options(...args, "h", "1"))({ started: expiries + 1, expiries }));

describe("CLI arguments", () => {
  it("defaults: one readable connect, the library's schedule and settings", () => {
    const o = options("example.com", "443");
    assert.deepEqual(o, {
      host: "example.com",
      port: 443,
      json: false,
      repeat: 1,
      schedule: "default",
      attemptDelay: undefined,
      timeout: undefined,
      family: undefined,
      resolutionDelay: undefined,
      maxAttemptsInFlight: undefined,
      deny: undefined,
    });
    assert.deepEqual(raceSettings(o), { schedule: defaultSchedule });
  });

  it("every option, as --opt value and --opt=value, in any order", () => {
    const o = options(
      "--json",
      "::1",
      "--repeat=3",
      "--timeout",
      "1500.5",
      "8080",
      "--family=6",
      "--resolution-delay",
      "0",
      "--max-attempts-in-flight",
      "2",
    );
    assert.equal(o.host, "::1");
    assert.equal(o.port, 8080);
    const { schedule: _, ...settings } = raceSettings(o);
    assert.deepEqual(settings, { timeout: 1500.5, family: 6, resolutionDelay: 0, maxAttemptsInFlight: 2 });
    assert.equal(o.json, true);
    assert.equal(o.repeat, 3);
  });

  it("--deny: internal, all, or a list of categories; an unknown one is named", () => {
    assert.deepEqual(options("--deny", "internal", "h", "1").deny, INTERNAL_CATEGORIES);
    assert.deepEqual(options("--deny=all", "h", "1").deny, ADDRESS_CATEGORIES);
    const o = options("--deny", "loopback,private", "h", "1");
    assert.deepEqual(o.deny, ["loopback", "private"]);
    const policy = raceSettings(o).addressPolicy!;
    assert.equal(policy("::ffff:127.0.0.1", 6), "loopback (IPv4-mapped 127.0.0.1)");
    assert.equal(policy("192.0.2.1", 4), true);
    assert.throws(() => parseArgs(["--deny", "loopback,privat", "h", "1"]), /--deny must be .*; got "privat"/);
  });

  it("schedules: rfc8305 is fixed (250 ms), halving is the article's (500 ms, halved), --attempt-delay alone is rfc8305", () => {
    assert.deepEqual(delays(["--schedule", "rfc8305"]), [250, 250, 250, 250]);
    assert.deepEqual(delays(["--schedule", "rfc8305", "--attempt-delay", "100"]), [100, 100, 100, 100]);
    assert.deepEqual(delays(["--schedule", "halving"]), [500, 250, 125, 62]);
    assert.deepEqual(delays(["--schedule", "halving", "--attempt-delay", "300"]), [300, 150, 75, 37]);
    assert.deepEqual(delays(["--attempt-delay", "300"]), [300, 300, 300, 300]);
    assert.deepEqual(delays([]), [250, 125, 62, 31]);
    assert.equal(scheduleOf(options("h", "1")), defaultSchedule);
  });

  it("--help and --version win; -- ends the options", () => {
    assert.deepEqual(parseArgs(["--bogus", "--help"]), { kind: "help" });
    assert.deepEqual(parseArgs(["-h"]), { kind: "help" });
    assert.deepEqual(parseArgs(["-V", "x"]), { kind: "version" });
    assert.equal(options("--json", "--", "host", "80").host, "host");
    assert.equal(options("--", "--help", "80").host, "--help"); // after --, even "--help" is HOST
  });

  it("usage errors name the argument", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /missing HOST and PORT/],
      [["h", "-1"], /PORT must be a whole number, got "-1"/],
      [["h", "0"], /PORT must be from 1 to 65535, got 0/],
      [["--timeout", "-5", "h", "1"], /--timeout must be a number of milliseconds ≥ 0, got "-5"/],
      [["--timeout", "--json", "h", "1"], /--timeout needs a value/],
      [["--max-attempts-in-flight", "0", "h", "1"], /--max-attempts-in-flight must be at least 1/],
      [["--max-attempts-in-flight", "1.5", "h", "1"], /--max-attempts-in-flight must be a whole number/],
      [["--schedule", "default", "--attempt-delay", "5", "h", "1"], /--attempt-delay does not apply/],
      [["--json=yes", "h", "1"], /--json takes no value/],
      [["-x", "h", "1"], /unknown option "-x"/],
    ];
    for (const [args, message] of cases) {
      assert.throws(() => parseArgs(args), (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
  });
});

describe("CLI timeline", () => {
  it("one row per attempt with start, end, address, outcome and reason; resolution first", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const lines = formatTimeline(
      [{ type: "resolved", atMs: 0.25, family: 6, addresses: ["::1"] }],
      [
        { index: 0, address: "::1", family: 6, port: 80, startMs: 0.3, endMs: 1.26, outcome: "failed", error: refused },
        { index: 1, address: "127.0.0.1", family: 4, port: 80, startMs: 1.3, endMs: 2, outcome: "won" },
      ],
    );
    assert.deepEqual(lines, [
      "       0.3 ms  resolved IPv6 (AAAA): ::1",
      "  #  start ms  end ms  address    outcome  reason",
      "  1       0.3     1.3  [::1]      failed   refused",
      "  2       1.3     2.0  127.0.0.1  won",
    ]);
    assert.equal(
      formatSummary({ address: "127.0.0.1", port: 80, ms: 2.04 }),
      "connected to 127.0.0.1 port 80 in 2.0 ms",
    );
  });
  it("addresses refused by policy are named in their family's resolved line, not shown as 'no address'", () => {
    const refusal = (atMs: number, address: string, family: 4 | 6) =>
      ({
        type: "address-refused",
        atMs,
        address,
        family,
        reason: `${family === 6 ? `[${address}]` : address} port 80: refused by policy (loopback)`,
      }) as const;
    const lines = formatTimeline([
      refusal(1.8, "127.0.0.1", 4),
      { type: "resolved", atMs: 2, family: 4, addresses: [] },
      refusal(2.05, "::1", 6),
      { type: "resolved", atMs: 2.1, family: 6, addresses: ["2001:db8::1"] },
    ], []);
    assert.deepEqual(lines, [
      "       2.0 ms  resolved IPv4 (A): 127.0.0.1 (refused)",
      "               not dialled: 127.0.0.1 port 80: refused by policy (loopback)",
      "       2.1 ms  resolved IPv6 (AAAA): 2001:db8::1, ::1 (refused)",
      "               not dialled: [::1] port 80: refused by policy (loopback)",
      "  no attempt was made",
    ]);
    assert.ok(!lines.some((l) => l.includes("no address")));
    // An IP literal is refused without any resolution: its line keeps its own time.
    assert.deepEqual(formatTimeline([refusal(0.7, "127.0.0.1", 4)], []), [
      "       0.7 ms  not dialled: 127.0.0.1 port 80: refused by policy (loopback)",
      "  no attempt was made",
    ]);
  });
});
