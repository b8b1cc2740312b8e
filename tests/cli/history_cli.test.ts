/** The CLI's history options: parsing, the store they make, the timeline lines, and a run in this process. */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliOptions, parseArgs, UsageError } from "../../src/cli/args.ts";
import { historyDelayLine, historyOrderLine, networkDelayLine } from "../../src/cli/format.ts";
import { run } from "../../src/cli/run.ts";
import { historyOf } from "../../src/cli/settings.ts";
import { FileHistory } from "../../src/adapters/shared/file_history.ts";
import { MemoryHistory } from "../../src/history/history.ts";
import type { Dialer, Target } from "../../src/base/types.ts";

function options(args: string[]): CliOptions {
  const command = parseArgs([...args, "dual.test", "443"]);
  assert.equal(command.kind, "connect");
  return (command as { options: CliOptions }).options;
}

describe("CLI history options", () => {
  it("parses --history FILE, --history-ttl MS and --no-history", () => {
    assert.equal(options(["--history", "/tmp/h.json"]).historyFile, "/tmp/h.json");
    assert.equal(options(["--history-ttl=1500"]).historyTtl, 1500);
    assert.equal(options(["--no-history"]).noHistory, true);
    assert.equal(options([]).historyFile, undefined);
    assert.throws(() => parseArgs(["dual.test", "443", "--history"]), /--history needs a value/);
    assert.throws(() => options(["--history="]), /--history needs a FILE name/);
    assert.throws(() => options(["--history-ttl", "soon"]), /--history-ttl must be a number of milliseconds/);
    assert.throws(() => options(["--history-ttl", "0"]), /--history-ttl must be more than 0 ms/);
    assert.throws(() => options(["--no-history", "--history", "h.json"]), UsageError);
    assert.throws(() => options(["--no-history=1"]), /--no-history takes no value/);
  });

  it("makes a file store, an in-memory store with that TTL, off, or the library's default", () => {
    assert.ok(historyOf({ historyFile: join(tmpdir(), "h.json") }) instanceof FileHistory);
    assert.ok(historyOf({ historyTtl: 1000 }) instanceof MemoryHistory);
    assert.equal(historyOf({ noHistory: true }), false);
    assert.equal(historyOf({}), undefined);
    assert.throws(() => historyOf({ historyFile: join(tmpdir(), "no-such-folder-eyeballs", "h.json") }), /no folder/);
  });

  it("says why history reordered and changed a delay", () => {
    assert.equal(
      historyOrderLine({
        type: "history-order",
        atMs: 0,
        preferredFamily: 4,
        addresses: [
          { address: "192.0.2.1", state: "connected", srttMs: 21, rttvarMs: 4, ageMs: 3000 },
          { address: "2001:db8::1", state: "lost", ageMs: 180_000 },
        ],
      }),
      "history: IPv4 leads; first 192.0.2.1 (connected 3.0 s ago, RTT 21.0 ms); last [2001:db8::1] (lost 3 min ago)",
    );
    assert.equal(
      historyDelayLine({
        type: "history-delay",
        atMs: 1,
        address: "2001:db8::1",
        delayMs: 45,
        scheduleMs: 250,
        srttMs: 20,
        rttvarMs: 2,
      }),
      "history: next attempt after 45.0 ms, not 250.0 ms: [2001:db8::1] connected in 20.0 ± 2.0 ms before",
    );
    assert.equal(
      networkDelayLine({
        type: "network-delay",
        atMs: 0,
        delayMs: 100,
        scheduleMs: 250,
        srttMs: 20.4,
        rttvarMs: 10.2,
        hosts: 3,
      }),
      "history: next attempt after 100.0 ms, not 250.0 ms: this network's RTT is 20.4 ± 10.2 ms (median of 3 hosts)",
    );
  });

  it("--history FILE: a second run goes straight to the address that won the first", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eyeballs-cli-history-"));
    try {
      const dialed: string[] = [];
      // IPv6 drops SYNs (the dial waits for its abort), IPv4 connects.
      const dialer: Dialer<string> = {
        dial: (t: Target, signal: AbortSignal) => {
          dialed.push(t.address);
          if (t.family === 4) return Promise.resolve(t.address);
          return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        },
        close: () => {},
      };
      const resolver = { resolve: (_: string, f: 4 | 6) => Promise.resolve(f === 6 ? ["2001:db8::1"] : ["192.0.2.1"]) };
      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      const args = ["--history", join(dir, "h.json"), "--attempt-delay", "50", "dual.test", "443"];
      assert.equal(await run(args, { dialer, resolver }, io), 0);
      assert.deepEqual(dialed, ["2001:db8::1", "192.0.2.1"]);
      dialed.length = 0;
      lines.length = 0;
      assert.equal(await run(args, { dialer, resolver }, io), 0);
      assert.deepEqual(dialed, ["192.0.2.1"]);
      assert.ok(lines.some((l) => l.includes("history: IPv4 leads; first 192.0.2.1")), lines.join("\n"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
