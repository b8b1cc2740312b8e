/**
 * The leak soak, reduced for CI: a few hundred races per adapter on
 * loopback, with random aborts, must leave no file descriptor and no handle
 * behind. The full 10,000-race soak runs on demand: `deno task soak`.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { nodeDialer } from "../../src/adapters/shared/net_dialer.ts";
import { startBannerServer } from "../helpers/loopback.ts";
import { problems, runSoak, type SoakReport } from "./soak.ts";

/** SOAK_RACES may shrink or grow the CI size; SOAK_SEED replays a run. */
const RACES = Number(process.env.SOAK_CI_RACES ?? 300);
const SEED = process.env.SOAK_SEED === undefined ? undefined : Number(process.env.SOAK_SEED);
const isDeno = "Deno" in globalThis;
const notDeno = !isDeno && "the Deno adapter runs only under Deno";

/** Prints the seed, so that a failure can be replayed with SOAK_SEED. */
function show(r: SoakReport): string {
  return `${r.runtime}, ${r.adapter} adapter, seed ${r.seed}: ${r.won} won, ${r.failed} failed, ` +
    `${r.aborted} aborted, ${r.timedOut} timed out; fds ${r.fdsBefore} -> ${r.fdsAfter} ${r.newFds.join(" ")}` +
    (r.droppedByDeno ? `; ${r.droppedByDeno} dropped by Deno.connect itself` : "");
}

describe("leak soak (reduced)", () => {
  it(`node adapter: ${RACES} races with random aborts leak nothing`, { timeout: 60_000 }, async () => {
    const report = await runSoak({ races: RACES, seed: SEED, adapter: "node" });
    console.log(show(report));
    assert.deepEqual(problems(report), [], show(report));
    // The mix must really be a mix, or the soak proves little.
    for (const outcome of ["won", "failed", "aborted", "timedOut"] as const) {
      assert.ok(report[outcome] > 0, `no race ${outcome}: ${show(report)}`);
    }
  });

  // Every connection Deno.connect returns must be closed; the ones it drops itself (it
  // checks its signal after connecting) are counted apart, and must explain every extra fd.
  it(`deno adapter: ${RACES} races, every connection closed, no fd or resource leaked beyond Deno's own`, {
    skip: notDeno,
    timeout: 60_000,
  }, async () => {
    const report = await runSoak({ races: RACES, seed: SEED, adapter: "deno" });
    console.log(show(report));
    assert.deepEqual(problems(report), [], show(report));
  });
});

describe("node adapter's dialer, aborted while its connect is failing", () => {
  // Deno's node:net emits "error" after destroy() when a connect failure was on its way.
  it("raises no uncaught error", { timeout: 30_000 }, async () => {
    // A live 127.0.0.1 and a refused ::1 on one port, dialled together: the IPv4 win
    // aborts the IPv6 attempt in the very turn its refusal comes back.
    const server = await startBannerServer("127.0.0.1");
    let uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      for (let i = 0; i < 200; i++) {
        const loser = new AbortController();
        const v6 = nodeDialer.dial({ address: "::1", family: 6, port: server.port }, loser.signal).catch(() => {});
        const v4 = nodeDialer.dial({ address: "127.0.0.1", family: 4, port: server.port }, new AbortController().signal)
          .then((socket) => {
            loser.abort(new Error("lost the race"));
            nodeDialer.close(socket);
          }, () => {});
        await Promise.all([v4, v6]);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      process.off("uncaughtException", onUncaught);
      await server.close();
    }
    const first = uncaught[0] as Error | undefined;
    assert.equal(uncaught.length, 0, `${uncaught.length} uncaught errors, the first: ${first?.message}`);
    uncaught = [];
  });
});
