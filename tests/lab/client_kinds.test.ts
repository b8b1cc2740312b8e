/**
 * One client of each kind docs/clients.md has a guide for, plugged in with
 * the one line that guide shows, against real servers in the lab's server
 * namespace (Redis 7 and python's http.server), with IPv6 blackholed:
 *
 * - socket factory (ioredis's Connector with `createConnection`),
 * - a connected socket through a callback (http.request's `createConnection`),
 * - an agent (`EyeballsAgent`), under http and under ws (a WebSocket echo
 *   server in the server namespace),
 * - undici as the global dispatcher (`undiciConnector`; Node's own fetch),
 * - `lookup` only: node-redis, `http.request` and undici's `connect.lookup`.
 *
 * Each client runs in a fresh process in the client namespace
 * (tests/lab/client_kinds_client.ts, under the runtime running this file);
 * the lab counts the SYNs it sent to each address. Run lab tests under
 * `flock /tmp/eyeballs-lab.lock`.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable, python, waitGone } from "./lab.ts";
import { fromSource, runtime } from "../helpers/cli_entry.ts";
import { serversUnavailable } from "../clients/real_servers.ts";

const skip = labUnavailable() ?? serversUnavailable();
if (skip) console.log(skip);

const here = dirname(fileURLToPath(import.meta.url));
const client = join(here, fromSource ? "client_kinds_client.ts" : "client_kinds_client.js");
const HTTP_PORT = 8080;
const REDIS_PORT = 6379;
const WS_PORT = 8081;
const NAME = "kinds.lab.test";

/** The kinds that race (eyeballs makes the attempts), and those that take a `lookup` (the runtime makes them). */
const RACING = ["socket-factory", "callback", "agent", "websocket-agent", "global-dispatcher"];
const LOOKUP_ONLY = ["lookup-redis", "lookup-http", "lookup-undici"];

/** What a kind's server answers. */
const expected = (kind: string) =>
  kind.includes("redis") || kind === "socket-factory" ? "PONG" : kind.startsWith("websocket") ? "echo: ping" : 200;

describe(`each kind of client in the network lab (${runtime})`, { skip: skip ?? false, timeout: 300_000 }, () => {
  let lab: Lab;
  let dir: string;
  const servers: ChildProcess[] = [];

  /** Starts a server in the server namespace and waits until it takes connections over IPv4. */
  async function serve(port: number, argv: string[]): Promise<void> {
    const server = spawn("ip", ["netns", "exec", lab.serverNs, ...argv], { stdio: "ignore" });
    servers.push(server);
    for (let i = 0; i < 50; i++) {
      if ((await lab.probe("connect", lab.servers.v4[0], String(port))).ok === true) return;
      if (server.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${argv[0]} did not start on port ${port}`);
  }

  /** Runs one kind of client; its JSON line, and the SYNs it sent per address. */
  async function run(kind: string) {
    await lab.synCounts({ reset: true });
    const argv = [client, kind, NAME, String(HTTP_PORT), String(REDIS_PORT), String(WS_PORT)];
    const r = await lab.exec(process.execPath, runtime === "deno" ? ["run", "-A", "--quiet", ...argv] : argv, {
      timeoutMs: 60_000,
    });
    assert.ok(!r.timedOut, `${kind}: the client hung\n${r.stderr}`);
    const line = JSON.parse(r.stdout.trim().split("\n").pop() || "{}");
    return { line, syns: await lab.synCounts(), summary: `${kind}: ${JSON.stringify(line)}\n${r.stderr}` };
  }

  before(async () => {
    lab = await Lab.start({ delayMs: 10, count: 1, ports: [80] });
    dir = mkdtempSync(join(tmpdir(), "eyeballs-kinds-"));
    await serve(HTTP_PORT, [python(), "-m", "http.server", String(HTTP_PORT), "--bind", "::", "--directory", here]);
    await serve(REDIS_PORT, [
      "/usr/bin/redis-server",
      "--port",
      String(REDIS_PORT),
      "--bind",
      "* -::*",
      "--protected-mode",
      "no",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ]);
    // A WebSocket echo server: ws on Node (the machine's), by the path this project installed it at.
    const ws = JSON.stringify(createRequire(import.meta.url).resolve("ws"));
    await serve(WS_PORT, [
      "node",
      "-e",
      `new (require(${ws}).WebSocketServer)({ port: ${WS_PORT}, host: "::" })` +
      `.on("connection", (s) => s.on("message", (m) => s.send("echo: " + m)))`,
    ]);
  });

  after(async () => {
    for (const server of servers) {
      if (server.exitCode !== null) continue;
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    const pid = lab?.info.pid;
    await lab?.stop();
    if (pid) assert.deepEqual(await waitGone(pid), [], "the lab left something behind");
  });

  it("IPv6 blackholed, AAAA on time: every racing kind tries IPv6 first and is served over IPv4", async () => {
    const [v6] = lab.servers.v6;
    const [v4] = lab.servers.v4;
    await lab.clearFaults();
    await lab.setDns(NAME, { AAAA: [v6], A: [v4] });
    await lab.setFault(v6, "blackhole");
    for (const kind of RACING) {
      const { line, syns, summary } = await run(kind);
      assert.equal(line.answer, expected(kind), summary);
      if (line.remoteAddress !== undefined) assert.equal(line.remoteAddress, v4, summary);
      assert.ok((syns[v6] ?? 0) >= 1, `${summary}: no SYN to ${v6}: ${JSON.stringify(syns)}`);
      assert.ok((syns[v4] ?? 0) >= 1, `${summary}: no SYN to ${v4}: ${JSON.stringify(syns)}`);
    }
  });

  it("IPv6 blackholed, AAAA 400 ms late: every kind, lookup-only ones too, is served over IPv4 without an IPv6 SYN", async () => {
    const [v6] = lab.servers.v6;
    const [v4] = lab.servers.v4;
    await lab.clearFaults();
    await lab.setDns(NAME, { AAAA: { addrs: [v6], delayMs: 400 }, A: [v4] });
    await lab.setFault(v6, "blackhole");
    for (const kind of [...LOOKUP_ONLY, ...RACING]) {
      const { line, syns, summary } = await run(kind);
      assert.equal(line.answer, expected(kind), summary);
      if (line.remoteAddress !== undefined) assert.equal(line.remoteAddress, v4, summary);
      // lookup answered once the A answer had waited the Resolution Delay; the race was won before AAAA came.
      assert.equal(syns[v6] ?? 0, 0, `${summary}: ${JSON.stringify(syns)}`);
      assert.ok((syns[v4] ?? 0) >= 1, `${summary}: no SYN to ${v4}: ${JSON.stringify(syns)}`);
    }
  });
});
