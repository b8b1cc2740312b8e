/**
 * The CLI's live view: its rendering (pure), its redraw in place, and the
 * real thing in a pseudo-terminal (`script`), where a dead first address
 * keeps an attempt pending long enough to be drawn.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import process from "node:process";
import { startFullQueueListener } from "../../scripts/full_queue.ts";
import { LiveView, renderLive } from "../../src/cli/live.ts";
import { AttemptError } from "../../src/base/errors.ts";
import type { Attempt, ConnectEvent } from "../../src/base/types.ts";
import { mainFile } from "../helpers/cli_entry.ts";

const v6: Attempt = { index: 0, address: "::1", family: 6, port: 80, startMs: 10, outcome: "aborted" };
const v4: Attempt = { index: 1, address: "127.0.0.1", family: 4, port: 80, startMs: 260, outcome: "won" };

describe("live view rendering", () => {
  it("shows resolution, then each pending attempt with its age", () => {
    assert.deepEqual(renderLive([], 5), ["  resolving… (5 ms)"]);
    const events: ConnectEvent[] = [
      { type: "resolved", atMs: 2, family: 6, addresses: ["::1"] },
      { type: "resolved", atMs: 3, family: 4, addresses: ["127.0.0.1", "127.0.0.2"] },
      { type: "attempt-start", atMs: 10, attempt: v6 },
    ];
    assert.deepEqual(renderLive(events, 300), [
      "  resolved IPv6: 1 address, IPv4: 2 addresses (300 ms)",
      "  #1 [::1]  pending  290 ms",
    ]);
  });

  it("shows what failed and why, and the attempts that are still pending", () => {
    const events: ConnectEvent[] = [
      { type: "resolve-failed", atMs: 1, family: 6, error: new Error("no AAAA") },
      { type: "attempt-start", atMs: 10, attempt: v6 },
      { type: "attempt-start", atMs: 260, attempt: v4 },
      {
        type: "attempt-failed",
        atMs: 270,
        attempt: v6,
        error: new AttemptError("::1", 6, 80, Object.assign(new Error("x"), { code: "ECONNREFUSED" })),
      },
    ];
    const lines = renderLive(events, 400);
    assert.match(lines[0], /IPv6: failed/);
    assert.match(lines[1], /^ {2}#1 \[::1\] {6}failed {3}after 260 ms: refused$/);
    assert.match(lines[2], /^ {2}#2 127\.0\.0\.1 {2}pending {2}140 ms$/);
  });
});

describe("live view drawing", () => {
  it("redraws in place and erases itself when stopped", () => {
    let screen = "";
    let now = 0;
    const view = new LiveView({ write: (t) => (screen += t), now: () => now }, false);
    view.update([]);
    now = 50;
    view.update([{ type: "attempt-start", atMs: 10, attempt: v6 }]);
    view.stop();
    const frames = screen.split(/\x1b\[\d*F?\x1b\[J|\r\x1b\[J/);
    assert.deepEqual(frames, ["", "  resolving… (0 ms)\n", "  resolving… (50 ms)\n  #1 [::1]  pending  40 ms\n", ""]);
    // The second draw goes up the one line drawn before; stop() goes up the two of the last draw.
    assert.match(screen, /^\r\x1b\[J.*\n\x1b\[1F\x1b\[J.*\n.*\n\x1b\[2F\x1b\[J$/s);
  });
});

const command = "Deno" in globalThis
  ? [Deno.execPath(), "run", "-A", "--no-lock", mainFile]
  : [process.execPath, mainFile];
const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;
const hasScript = process.platform === "linux" && spawnSync("script", ["--version"]).status === 0;

/** Runs the CLI under a pseudo-terminal with `script`; resolves to everything it wrote. */
function inTerminal(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const line = [...command, ...args].map(quote).join(" ");
    const child = spawn("script", ["-q", "-e", "-c", line, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (output += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => (output += t));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("live view in a terminal", { skip: hasScript ? false : "needs `script` (util-linux) on Linux" }, () => {
  it("draws the pending attempt live, then the timeline; --json and a pipe stay static", async () => {
    // ::1 drops SYNs (full accept queue), 127.0.0.1 answers: attempt 1 stays pending 300 ms.
    const dead = await startFullQueueListener("::1");
    const live = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => live.listen(dead.port, "127.0.0.1", resolve));
    try {
      const args = ["--attempt-delay", "300", "localhost", String(dead.port)];
      const tty = await inTerminal(args);
      assert.equal(tty.code, 0, tty.output);
      assert.match(tty.output, /#1 \[::1\] +pending +\d+ ms/, "the pending attempt is drawn");
      assert.match(tty.output, /\x1b\[\d+F\x1b\[J/, "drawn in place");
      assert.match(tty.output, /connected to 127\.0\.0\.1 port/, "then the summary");
      assert.match(tty.output, /start ms +end ms +address/, "and the static timeline");

      const json = await inTerminal(["--json", ...args]);
      assert.equal(json.code, 0, json.output);
      assert.doesNotMatch(json.output, /\x1b\[/, "--json is never live");
      assert.equal(JSON.parse(json.output.trim()).address, "127.0.0.1");

      const piped = spawnSync(command[0], [...command.slice(1), ...args], { encoding: "utf8" });
      assert.equal(piped.status, 0, piped.stderr);
      assert.doesNotMatch(piped.stdout, /\x1b\[|pending/, "not a terminal: static timeline only");
      assert.match(piped.stdout, /connected to 127\.0\.0\.1/);
    } finally {
      await new Promise((resolve) => live.close(resolve));
      await dead.stop();
    }
  });
});
