/**
 * EyeballsAgent in the network lab: IPv6 blackholed, the HTTP request goes
 * out over IPv4 one attempt delay later. The HTTP server is python's
 * http.server in the lab's server namespace, on the lab's documentation
 * addresses only. Run lab tests under `flock /tmp/eyeballs-lab.lock`.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable, python, waitGone } from "../lab/lab.ts";
import { runtime } from "./helpers.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith(".ts");
const clientFile = join(here, fromSource ? "lab_http_client.ts" : "lab_http_client.js");
const HTTP_PORT = 8080;
const DELAY = 50; // one way: RTT 100 ms
const ATTEMPT_DELAY = 250;

interface Line {
  status?: number;
  remoteAddress?: string;
  ms?: number;
  error?: string;
  events: { type: string; atMs: number; address?: string }[];
}

describe(`EyeballsAgent in the network lab (${runtime})`, { skip: skip ?? false }, () => {
  let lab: Lab;
  let server: ChildProcess | undefined;

  before(async () => {
    lab = await Lab.start({ delayMs: DELAY, count: 1 });
    server = spawn("ip", [
      "netns",
      "exec",
      lab.serverNs,
      python(),
      "-m",
      "http.server",
      String(HTTP_PORT),
      "--bind",
      "::",
      "--directory",
      here,
    ], { stdio: "ignore" });
    // Until the server answers over IPv4 (at most 10 s).
    for (let i = 0; i < 50; i++) {
      const probe = await lab.probe("connect", lab.servers.v4[0], String(HTTP_PORT));
      if (probe.ok === true) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    const pid = lab?.info.pid;
    await lab?.stop();
    if (pid) assert.deepEqual(await waitGone(pid), [], "the lab left something behind");
  });

  it("IPv6 blackholed: the request goes out over IPv4 one attempt delay after the IPv6 attempt", {
    timeout: 60_000,
  }, async () => {
    const [v6] = lab.servers.v6;
    const [v4] = lab.servers.v4;
    await lab.setDns("web.lab.test", { AAAA: [v6], A: [v4] });
    await lab.setFault(v6, "blackhole");
    const argv = [clientFile, `http://web.lab.test:${HTTP_PORT}/`, String(ATTEMPT_DELAY)];
    const r = await lab.exec(process.execPath, runtime === "deno" ? ["run", "-A", "--no-lock", ...argv] : argv, {
      timeoutMs: 30_000,
    });
    assert.ok(!r.timedOut, `the client hung\n${r.stderr}`);
    const line = JSON.parse(r.stdout.trim().split("\n").pop()!) as Line;
    const starts = line.events.filter((e) => e.type === "attempt-start");
    const summary = JSON.stringify(line);
    assert.equal(line.status, 200, summary + r.stderr);
    assert.equal(line.remoteAddress, v4, summary);
    assert.deepEqual(starts.map((e) => e.address), [v6, v4], summary);
    // IPv4 started on the schedule (not before its delay), while IPv6 was still pending: the race, not a timeout.
    const gap = starts[1].atMs - starts[0].atMs;
    assert.ok(gap >= ATTEMPT_DELAY - 5, `IPv4 started ${gap} ms after IPv6`);
  });
});
