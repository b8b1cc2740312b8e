/**
 * The Deno adapter's race runs on `abortSignalClock` (Deno's own web timers), not `setTimeout`, whose first call in a
 * process loads Deno's node:timers.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { abortSignalClock } from "../../src/race/clock.ts";
import { DENO } from "../../src/adapters/deno/dialer.ts";
import { connect } from "../../src/adapters/deno/mod.ts";
import { startBannerServer } from "../helpers/loopback.ts";
import { countOwnTimeouts } from "../helpers/own_timeouts.ts";

const notDeno = !("Deno" in globalThis) && "the Deno adapter is tested under deno test";

describe("the Deno adapter's clock", { skip: notDeno }, () => {
  it("is the Deno adapter's clock: a race to localhost with a timeout calls no setTimeout of ours", async () => {
    const server = await startBannerServer("127.0.0.1"); // ::1 refuses: a race of two attempts
    assert.equal(DENO.clock, abortSignalClock);
    try {
      const { result: conn, calls } = await countOwnTimeouts(() =>
        connect({ hostname: "localhost", port: server.port, timeout: 5000 }) // the timeout's timer too
      );
      conn.close();
      assert.equal(calls, 0);
    } finally {
      await server.close();
    }
  });
});
