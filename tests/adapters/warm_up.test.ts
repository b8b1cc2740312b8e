/**
 * An adapter kind's hooks. `warmUp` (what the first dial of a process would otherwise do first, scheduled while a
 * name's lookup is on the wire): asked for on every connect to a name, never for an IP literal, on both the adapters'
 * connect and the clients' prepared connect. `clock`: the race's clock on every path.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type AdapterKind,
  connectForClient,
  connectPrepared,
  connectWith,
  prepareConnect,
} from "../../src/adapters/shared/connect.ts";
import { netKind } from "../../src/adapters/shared/net_dialer.ts";
import type { Clock, Family } from "../../src/base/types.ts";

/** A kind whose dialer connects at once to a string, counting warm-ups and lookups. */
function fakeKind() {
  const seen = { warmUps: 0, lookups: [] as string[] };
  const kind: AdapterKind<string> = {
    shape: { hostField: "hostname", socket: [] },
    resolver: {
      resolve(name: string, family: Family) {
        seen.lookups.push(`${name} ${family}`);
        // The warm-up is asked for before the lookups begin.
        assert.equal(seen.warmUps, 1);
        return Promise.resolve(family === 4 ? ["192.0.2.1"] : []);
      },
    },
    dialer: () => ({ dial: (target) => Promise.resolve(`conn to ${target.address}`), close: () => {} }),
    tune: () => {},
    warmUp: () => void seen.warmUps++,
  };
  return { kind, seen };
}

describe("an adapter kind's warm-up", () => {
  it("is asked for once per connect to a name, before its lookups", async () => {
    const { kind, seen } = fakeKind();
    assert.equal(
      await connectWith({ hostname: "db.example", port: 5432, history: false }, kind, false),
      "conn to 192.0.2.1",
    );
    assert.equal(seen.warmUps, 1);
    assert.deepEqual(seen.lookups.sort(), ["db.example 4", "db.example 6"]);
  });

  it("is not asked for by a connect to an IP literal (no lookup to overlap)", async () => {
    const { kind, seen } = fakeKind();
    for (const hostname of ["192.0.2.7", "2001:db8::7"]) {
      const connected = await connectWith({ hostname, port: 5432 }, kind, true);
      assert.equal(connected.conn, `conn to ${hostname}`);
    }
    assert.equal(seen.warmUps, 0);
    assert.deepEqual(seen.lookups, []);
  });

  it("is asked for by the clients' connect too (connectForClient, prepareConnect then connectPrepared)", async () => {
    const { kind, seen } = fakeKind();
    await connectForClient({ hostname: "db.example", port: 5432, history: false }, kind);
    assert.equal(seen.warmUps, 1);
    const prepared = prepareConnect({ hostname: "db.example", port: 5432, history: false }, kind);
    assert.equal(seen.warmUps, 1, "not when only prepared");
    seen.warmUps = 0; // the resolver's check expects the count of this connect
    await connectPrepared(prepared);
    assert.equal(seen.warmUps, 1);
    await connectForClient({ hostname: "192.0.2.7", port: 5432 }, kind);
    assert.equal(seen.warmUps, 1);
  });

  it("is wired for node:net's kind on Node (whose first net.connect compiles net.isIP's expression), not elsewhere", () => {
    const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);
    for (const field of ["host", "hostname"] as const) {
      assert.equal(typeof netKind(field).warmUp, onNode ? "function" : "undefined");
    }
  });
});

describe("an adapter kind's clock", () => {
  /** A kind whose race runs on a recording clock; the resolver answers IPv6 late, so the race sets timers. */
  function clockedKind() {
    const timers: number[] = [];
    const clock: Clock = {
      now: () => performance.now(),
      setTimer(callback, ms) {
        timers.push(ms);
        const id = setTimeout(callback, 0); // due at once: the test need not wait
        return () => clearTimeout(id);
      },
    };
    const kind: AdapterKind<string> = {
      shape: { hostField: "hostname", socket: [] },
      resolver: { resolve: (_name, family) => Promise.resolve(family === 4 ? ["192.0.2.1"] : ["2001:db8::1"]) },
      dialer: () => ({
        dial: (target) =>
          target.family === 6 ? new Promise<string>(() => {}) : Promise.resolve(`conn to ${target.address}`),
        close: () => {},
      }),
      tune: () => {},
      clock,
    };
    return { kind, timers };
  }

  it("runs the race's timers on every adapter path (connect, the clients' connect, a prepared connect)", async () => {
    for (
      const run of [
        (kind: AdapterKind<string>) => connectWith({ hostname: "db.example", port: 5432, history: false }, kind, false),
        (kind: AdapterKind<string>) =>
          connectForClient({ hostname: "db.example", port: 5432, history: false }, kind).then((c) => c.conn),
        (kind: AdapterKind<string>) =>
          connectPrepared(prepareConnect({ hostname: "db.example", port: 5432, history: false }, kind)).then((c) =>
            c.conn
          ),
      ]
    ) {
      const { kind, timers } = clockedKind();
      assert.equal(await run(kind), "conn to 192.0.2.1");
      assert.ok(timers.length >= 1, "the attempt delay ran on the kind's clock");
    }
  });
});
