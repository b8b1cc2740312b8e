/**
 * The `eyeballs` CLI, run as a child process under the runtime running the
 * test (Deno and Bun run src/cli/main.ts; Node runs the built main.js that
 * sits at the same relative place in the npm build), against loopback
 * servers started here.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FullQueueListener, startFullQueueListener } from "../../scripts/full_queue.ts";
import { VERSION } from "../../src/cli/version.ts";
import { cli } from "../helpers/cli_entry.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** A child that has not exited by then is hung: fail rather than stall the suite. */

/** The JSON lines of stdout, parsed. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split("\n").map((line) => JSON.parse(line));
}

/** A server that accepts and hangs up at once. */
async function startServer(host: string, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port where nothing listens on 127.0.0.1 nor ::1, so connects are refused. */
async function refusedPort(): Promise<number> {
  const v4 = await startServer("127.0.0.1");
  const v6 = await startServer("::1", v4.port).catch(() => undefined);
  await v4.close();
  await v6?.close();
  if (!v6) return refusedPort(); // ::1 had that port in use: pick another
  return v4.port;
}

type AttemptJson = {
  address: string;
  family: number;
  startMs: number;
  endMs: number | null;
  outcome: string;
  error: string | null;
};

/** Checks the fields and types of every attempt of a JSON line. */
function checkAttempts(line: Record<string, unknown>): AttemptJson[] {
  const attempts = line.attempts as AttemptJson[];
  assert.ok(Array.isArray(attempts), "attempts is an array");
  for (const a of attempts) {
    assert.deepEqual(Object.keys(a).sort(), ["address", "endMs", "error", "family", "outcome", "startMs"]);
    assert.equal(typeof a.startMs, "number");
    assert.equal(typeof a.endMs, "number");
    assert.ok(a.endMs! >= a.startMs, `ends after it starts: ${JSON.stringify(a)}`);
    assert.ok(a.error === null || typeof a.error === "string");
  }
  return attempts;
}

describe("eyeballs CLI", () => {
  let v4: { port: number; close(): Promise<void> };
  let v6: { port: number; close(): Promise<void> };
  let blackhole: FullQueueListener;

  before(async () => {
    v4 = await startServer("127.0.0.1");
    v6 = await startServer("::1");
    blackhole = await startFullQueueListener("127.0.0.1");
  });

  after(async () => {
    await v4?.close();
    await v6?.close();
    await blackhole?.stop();
  });

  it("--deny internal: a loopback target is refused by policy, with no connection made", async () => {
    const run = await cli("--deny", "internal", "127.0.0.1", String(v4.port));
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr + run.stdout, /127\.0\.0\.1 port \d+: refused by policy \(loopback\)/);
    // A name whose every address is refused: the timeline says what it resolved to, not "no address".
    const name = await cli("--deny", "internal", "localhost", String(v4.port));
    assert.equal(name.code, 1, name.stdout);
    assert.match(name.stdout, /resolved IPv4 \(A\): 127\.0\.0\.1 \(refused\)\n\s+not dialled: 127\.0\.0\.1 port/);
    assert.doesNotMatch(name.stdout, /no address/);
    assert.match(name.stdout, /no attempt was made/);
  });

  it("--json: one line with the winner, its family, the time and each attempt", async () => {
    for (const [host, port, family] of [["127.0.0.1", v4.port, 4], ["::1", v6.port, 6]] as const) {
      const run = await cli("--json", host, String(port));
      assert.equal(run.code, 0, run.stderr);
      const lines = jsonLines(run.stdout);
      assert.equal(lines.length, 1);
      const [line] = lines;
      assert.deepEqual(Object.keys(line).sort(), ["address", "attempts", "family", "host", "ms", "port"]);
      assert.equal(line.host, host);
      assert.equal(line.port, port);
      assert.equal(line.address, host);
      assert.equal(line.family, family);
      assert.equal(typeof line.ms, "number");
      assert.ok((line.ms as number) >= 0 && (line.ms as number) < 10_000);
      const attempts = checkAttempts(line);
      assert.deepEqual(attempts.map((a) => [a.address, a.family, a.outcome, a.error]), [[host, family, "won", null]]);
    }
  });

  it("resolves a name through the system resolver (localhost, --family 4)", async () => {
    const run = await cli("--json", "--family", "4", "localhost", String(v4.port));
    assert.equal(run.code, 0, run.stderr);
    const [line] = jsonLines(run.stdout);
    assert.equal(line.host, "localhost");
    assert.equal(line.address, "127.0.0.1");
    assert.equal(line.family, 4);
  });

  it("--repeat 3: three connects, three lines", async () => {
    const run = await cli("--json", "--repeat", "3", "--schedule", "rfc8305", "127.0.0.1", String(v4.port));
    assert.equal(run.code, 0, run.stderr);
    const lines = jsonLines(run.stdout);
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.equal(line.address, "127.0.0.1");
      assert.equal(checkAttempts(line)[0].outcome, "won");
    }
  });

  it("readable output: one row per attempt and the summary line", async () => {
    const run = await cli("127.0.0.1", String(v4.port));
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines.at(-1)!, new RegExp(`^connected to 127\\.0\\.0\\.1 port ${v4.port} in \\d+\\.\\d ms$`));
    assert.ok(lines.some((l) => /^\s+1\s+\d+\.\d\s+\d+\.\d\s+127\.0\.0\.1\s+won$/.test(l)), run.stdout);
  });

  it("failure: JSON naming each address, exit 1", async () => {
    const port = await refusedPort();
    const run = await cli("--json", "localhost", String(port));
    assert.equal(run.code, 1, run.stderr);
    const lines = jsonLines(run.stdout);
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.deepEqual(Object.keys(line).sort(), ["attempts", "code", "error", "host", "port"]);
    assert.equal(line.code, "ECONNREFUSED"); // every address refused: the ConnectError's code
    assert.equal(line.host, "localhost");
    assert.equal(line.port, port);
    const attempts = checkAttempts(line);
    assert.ok(attempts.some((a) => a.address === "127.0.0.1"), "localhost has 127.0.0.1");
    for (const a of attempts) {
      assert.equal(a.outcome, "failed");
      assert.equal(a.error, "refused");
      assert.ok((line.error as string).includes(`${a.address}${a.family === 6 ? "]" : ""} port ${port}: refused`));
    }
  });

  it("--repeat 2 when refused: both failure lines, exit 1; readable error on stderr", async () => {
    const port = await refusedPort();
    const json = await cli("--json", "--repeat", "2", "::1", String(port));
    assert.equal(json.code, 1);
    assert.deepEqual(jsonLines(json.stdout).map((l) => l.error), [
      `could not connect to ::1 port ${port}:\n  [::1] port ${port}: refused`,
      `could not connect to ::1 port ${port}:\n  [::1] port ${port}: refused`,
    ]);
    const text = await cli("::1", String(port));
    assert.equal(text.code, 1);
    assert.match(text.stdout, /\[::1\]\s+failed\s+refused/);
    assert.match(text.stderr, new RegExp(`could not connect to ::1 port ${port}:\\n  \\[::1\\] port ${port}: refused`));
  });

  it("a blackholed address with --timeout: times out, the attempt is aborted, the process exits promptly", async () => {
    const run = await cli("--json", "--timeout", "500", "127.0.0.1", String(blackhole.port));
    assert.equal(run.code, 1, run.stderr);
    const [line] = jsonLines(run.stdout);
    assert.match(line.error as string, /^timed out after 500 ms to 127\.0\.0\.1/);
    assert.deepEqual(checkAttempts(line).map((a) => [a.address, a.outcome]), [["127.0.0.1", "aborted"]]);
    // The pending connect was cancelled: nothing kept the process alive (a kernel timeout is ~2 min). A process
    // that hung would have been killed (HANG_MS) and exited without status 1.
  });

  it("bad arguments: exit 2, one line naming the argument, and a usage hint", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--timeout", "soon", "localhost", "80"], /--timeout must be a number of milliseconds/],
      [["--family", "5", "localhost", "80"], /--family must be 4 or 6, got "5"/],
      [["--schedule", "fast", "localhost", "80"], /--schedule must be one of default, rfc8305, halving/],
      [["--repeat", "0", "localhost", "80"], /--repeat must be at least 1/],
      [["--bogus", "localhost", "80"], /unknown option "--bogus"/],
      [["localhost"], /missing PORT/],
      [["localhost", "http"], /PORT must be a whole number, got "http"/],
      [["localhost", "70000"], /PORT must be from 1 to 65535/],
      [["localhost", "80", "extra"], /unexpected argument "extra"/],
      [["--timeout"], /--timeout needs a value/],
      // Left to the library, which names the field; the CLI shows it as the argument.
      [["--timeout", "0", "localhost", "80"], /--timeout must be > 0/],
      [["bad..name", "80"], /HOST "bad\.\.name" has an empty label/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(...args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stdout, "");
      const [first, hint] = run.stderr.trimEnd().split("\n");
      assert.match(first, message);
      assert.match(hint, /^usage: eyeballs/);
    }
  });

  it("--help exits 0 with the usage; --version prints deno.json's version", async () => {
    const help = await cli("--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: eyeballs \[options\] HOST PORT/);
    assert.match(help.stdout, /--attempt-delay MS/);
    const version = await cli("--version");
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), VERSION);
  });
});

describe("eyeballs CLI version constant", () => {
  it("equals deno.json's version", () => {
    // deno.json is two levels up from the sources, three from the npm build's tests.
    for (const up of [["..", ".."], ["..", "..", ".."]]) {
      try {
        const { version } = JSON.parse(readFileSync(join(here, ...up, "deno.json"), "utf8"));
        assert.equal(VERSION, version);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
      }
    }
    assert.fail("deno.json not found");
  });
});
