/**
 * An IP literal with no signal, no timeout and no observer skips the race's
 * machinery (connect.ts `dialOnce`). It must give what the race gives: the
 * same timeline, the same errors. Each case runs both ways (a signal that
 * never fires sends the same connect through the race) and compares.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Attempt, connect, ConnectError, type Dialer } from "../../mod.ts";

type Outcome = { ok: true; address: string; family: number; attempts: unknown } | {
  ok: false;
  name: string;
  message: string;
  errors: string[];
  causes: unknown[];
  attempts: unknown;
};

/** Connects twice, without and with a signal, and returns both outcomes with the timing fields removed. */
async function both(hostname: string, dialer: Dialer<string>): Promise<[Outcome, Outcome]> {
  const run = async (signal?: AbortSignal): Promise<Outcome> => {
    const strip = (attempts: readonly Attempt[]) => attempts.map(({ startMs: _s, endMs: _e, ...rest }) => rest);
    try {
      const c = await connect({ hostname, port: 443, dialer, signal });
      return { ok: true, address: c.address, family: c.family, attempts: strip(c.attempts) };
    } catch (e) {
      assert.ok(e instanceof ConnectError, `a ConnectError, got ${e}`);
      return {
        ok: false,
        name: e.name,
        message: e.message,
        errors: e.errors.map((x: Error) => x.message),
        causes: e.errors.map((x: Error) => (x.cause as Error | undefined)?.message),
        attempts: strip(e.attempts),
      };
    }
  };
  return [await run(), await run(new AbortController().signal)];
}

describe("an IP literal without signal, timeout or observer", () => {
  it("connects with the race's timeline: one attempt, won", async () => {
    const [fast, raced] = await both("[2001:DB8::1]", { dial: (t) => Promise.resolve(t.address), close: () => {} });
    assert.deepEqual(fast, raced);
    assert.deepEqual(fast, {
      ok: true,
      address: "2001:db8::1",
      family: 6,
      attempts: [{ address: "2001:db8::1", family: 6, port: 443, index: 0, outcome: "won" }],
    });
  });

  it("fails with the race's ConnectError when the dial rejects, throws, or resolves with nothing", async () => {
    const dialers: Dialer<string>[] = [
      { dial: () => Promise.reject(new Error("refused")), close: () => {} },
      {
        dial: () => {
          throw new Error("thrown");
        },
        close: () => {},
      },
      { dial: () => Promise.resolve(undefined as unknown as string), close: () => {} },
    ];
    for (const dialer of dialers) {
      const [fast, raced] = await both("192.0.2.1", dialer);
      assert.equal(fast.ok, false);
      assert.deepEqual(fast, raced);
    }
  });

  it("dials once and closes nothing", async () => {
    let dials = 0;
    const result = await connect({
      hostname: "192.0.2.1",
      port: 80,
      dialer: { dial: (t) => (dials++, Promise.resolve(t.address)), close: () => assert.fail("nothing to close") },
    });
    assert.equal(result.conn, "192.0.2.1");
    assert.equal(dials, 1);
  });
});
