/**
 * The adapters' plain call, `{ host, port }` to an IP literal with nothing else set, is dialled without the full
 * option path (`checkAdapterOptions` marks it, and the core's `connectChecked` dials it once). It must give what the full path gives: the same timeline,
 * the same errors, and every bad input still the full path's TypeError or RangeError naming the field. Each case
 * runs both ways (`family` set to the literal's own family sends the same connect through the full path) and
 * compares.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { connect as nodeConnect, connectWithTimeline as nodeTimeline } from "../../src/adapters/node/mod.ts";
import { connect as bunConnect, connectWithTimeline as bunTimeline } from "../../src/adapters/bun/mod.ts";
import { connect as denoConnect, connectWithTimeline as denoTimeline } from "../../src/adapters/deno/mod.ts";
import { checkAdapterOptions } from "../../src/adapters/shared/options.ts";
import { ConnectError } from "../../src/base/errors.ts";
import type { Attempt } from "../../src/base/types.ts";

/** One adapter entry point, called with its own host field. */
interface Entry {
  readonly name: string;
  readonly field: "host" | "hostname";
  connect(options: Record<string, unknown>): Promise<unknown>;
  timeline(options: Record<string, unknown>): Promise<{ conn: unknown; attempts: readonly Attempt[] }>;
  close(conn: unknown): void;
}

const destroy = (socket: unknown) => (socket as net.Socket).destroy();
const entries: Entry[] = [
  { name: "node", field: "host", connect: nodeConnect as never, timeline: nodeTimeline as never, close: destroy },
  { name: "bun", field: "hostname", connect: bunConnect as never, timeline: bunTimeline as never, close: destroy },
];
if ("Deno" in globalThis) {
  entries.push({
    name: "deno",
    field: "hostname",
    connect: denoConnect as never,
    timeline: denoTimeline as never,
    close: (conn) => (conn as Deno.TcpConn).close(),
  });
}

const strip = (attempts: readonly Attempt[]) => attempts.map(({ startMs: _s, endMs: _e, ...rest }) => rest);

/** A connect's outcome without its timing: what the plain call and the full path must agree on. */
async function outcome(entry: Entry, options: Record<string, unknown>): Promise<unknown> {
  try {
    const { conn, attempts, ...rest } = await entry.timeline(options);
    entry.close(conn);
    return { ok: true, ...rest, ms: undefined, attempts: strip(attempts) };
  } catch (e) {
    assert.ok(e instanceof ConnectError, `a ConnectError, got ${e}`);
    return {
      ok: false,
      message: e.message.replace(/\(.*\)/g, ""), // the runtime's error text may carry call details
      errors: e.errors.map((x: Error) => x.constructor.name),
      attempts: strip(e.attempts).map(({ error: _e, ...rest }) => rest),
    };
  }
}

describe("the plain { host, port } call to an IP literal", () => {
  const servers: net.Server[] = [];
  let port = 0;
  let closedPort = 0;
  before(async () => {
    const listen = (host: string, at: number) =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer((socket) => socket.destroy());
        server.once("error", reject);
        server.listen({ host, port: at }, () => resolve(server));
      });
    servers.push(await listen("127.0.0.1", 0));
    port = (servers[0].address() as net.AddressInfo).port;
    servers.push(await listen("::1", port));
    const closed = await listen("127.0.0.1", 0);
    closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
  });
  after(() => servers.forEach((s) => s.close()));

  it("connects with the full path's timeline, for both families and a port given as digits", async () => {
    for (const entry of entries) {
      for (const [host, family] of [["127.0.0.1", 4], ["[::1]", 6], ["::1", 6]] as const) {
        const plain = await outcome(entry, { [entry.field]: host, port: String(port), timeout: undefined });
        const full = await outcome(entry, { [entry.field]: host, port, family });
        assert.deepEqual(plain, full, `${entry.name} ${host}`);
        assert.deepEqual(plain, {
          ok: true,
          address: host.replace(/[[\]]/g, ""),
          family,
          port,
          ms: undefined,
          attempts: [{ address: host.replace(/[[\]]/g, ""), family, port, index: 0, outcome: "won" }],
        });
      }
      const conn = await entry.connect({ [entry.field]: "127.0.0.1", port });
      assert.ok(conn, entry.name);
      entry.close(conn);
    }
  });

  it("fails with the full path's ConnectError", async () => {
    for (const entry of entries) {
      const plain = await outcome(entry, { [entry.field]: "127.0.0.1", port: closedPort });
      const full = await outcome(entry, { [entry.field]: "127.0.0.1", port: closedPort, family: 4 });
      assert.deepEqual(plain, full, entry.name);
      assert.equal((plain as { ok: boolean }).ok, false);
      await assert.rejects(entry.connect({ [entry.field]: "127.0.0.1", port: closedPort }), {
        name: "ConnectError",
        message: new RegExp(`^could not connect to 127\\.0\\.0\\.1 port ${closedPort}:\\n  127\\.0\\.0\\.1`),
      });
    }
  });

  it("leaves every bad input to the full path's checks, which name the field", async () => {
    for (const entry of entries) {
      const h = entry.field;
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ [h]: "127.0.0.1", port: 0 }, "RangeError", /^port must be an integer from 1 to 65535, got 0$/],
        [{ [h]: "127.0.0.1", port: 1.5 }, "RangeError", /^port must be an integer from 1 to 65535, got 1\.5$/],
        [{ [h]: "127.0.0.1", port: "80x" }, "RangeError", /^port must be a number from 1 to 65535 or a string/],
        [{ [h]: "127.0.0.1", port: "99999" }, "RangeError", /^port must be an integer from 1 to 65535/],
        [{ [h]: "127.0.0.1" }, "TypeError", /^port must be a number, got undefined$/],
        [{ [h]: "127.0.0.1", port: 80, colour: "blue" }, "TypeError", /^unknown option "colour"$/],
        [{ [h]: "127.0.0.1:80", port: 80 }, "RangeError", /includes a port/],
        [{ [h]: "127.0.0.1", port: 80, family: 6 }, "RangeError", /is IPv4 but family is 6$/],
        [{ [h]: "127.0.0.1", port: 80, noDelay: "yes" }, "TypeError", /^noDelay must be true or false/],
        [{ [h]: 127, port: 80 }, "TypeError", new RegExp(`^${h} must be a string, got 127$`)],
      ];
      for (const [options, name, message] of cases) {
        await assert.rejects(entry.connect(options), { name, message }, `${entry.name} ${JSON.stringify(options)}`);
        await assert.rejects(entry.timeline(options), { name, message }, `${entry.name} ${JSON.stringify(options)}`);
      }
    }
  });
});

describe("the plain literal shortcut of checkAdapterOptions", () => {
  const shape = { hostField: "host", socket: [] } as const;
  /** The target when the shortcut took the options; undefined when the full check did (or threw). */
  const plainTarget = (options: unknown) => {
    try {
      const { host, race } = checkAdapterOptions(options, shape);
      return host?.literal && { address: host.literal.address, family: host.literal.family, port: race.port };
    } catch {
      return undefined;
    }
  };

  it("takes an IP literal and a port, and gives the canonical target", () => {
    assert.deepEqual(plainTarget({ host: "192.0.2.1", port: 443 }), { address: "192.0.2.1", family: 4, port: 443 });
    assert.deepEqual(plainTarget({ host: "[2001:DB8:0::1]", port: "0443", signal: undefined }), {
      address: "2001:db8::1",
      family: 6,
      port: 443,
    });
  });

  it("leaves anything else to the full check: names, other settings, bad ports, other shapes", () => {
    const refused: unknown[] = [
      undefined,
      null,
      "192.0.2.1",
      [],
      { host: "example.com", port: 443 },
      { host: "192.0.2.1:443", port: 443 },
      { host: "192.0.2.1", port: 443, timeout: 1000 },
      { host: "192.0.2.1", port: 443, family: 4 },
      { host: "192.0.2.1", port: 443, noDelay: true },
      { host: "192.0.2.1", port: 443, signal: new AbortController().signal },
      { host: "192.0.2.1", port: 443, colour: "blue" },
      { hostname: "192.0.2.1", port: 443 },
      { host: "192.0.2.1" },
      { host: "192.0.2.1", port: 0 },
      { host: "192.0.2.1", port: 65536 },
      { host: "192.0.2.1", port: 1.5 },
      { host: "192.0.2.1", port: NaN },
      { host: "192.0.2.1", port: "" },
      { host: "192.0.2.1", port: "0x1bb" },
      { host: "192.0.2.1", port: "123456" },
      { host: 3221225985, port: 443 },
      { host: "fe80::1%eth0", port: 443 },
      Object.create({ host: "192.0.2.1", port: 443 }), // inherited options are not options
    ];
    for (const options of refused) assert.equal(plainTarget(options), undefined, String(options));
  });
});
