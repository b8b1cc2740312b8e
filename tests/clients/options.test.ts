/**
 * What the adapters accept from `net.connect` / `Deno.connect`, and the
 * errors bad options get: each names the option.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { connect, connectWithTimeline } from "../../src/adapters/node/mod.ts";
import { createConnection } from "../../src/clients/mod.ts";
import { connect as bunConnect } from "../../src/adapters/bun/mod.ts";
import { deadFirstResolver, runtime, type Started, startHttp } from "./helpers.ts";
import type http from "node:http";

let server: Started<http.Server>;
before(async () => (server = await startHttp()));
after(() => server.close());

describe("adapter options (node:net adapters)", () => {
  it("unknown options are a TypeError naming them; tls: true never means plaintext", async () => {
    await assert.rejects(connect({ host: "localhost", port: 443, tls: true } as never), {
      name: "TypeError",
      message: /^unknown option "tls": for TLS use connectTls/,
    });
    await assert.rejects(connect({ host: "localhost", port: 80, colour: "blue" } as never), {
      name: "TypeError",
      message: /^unknown option "colour"$/,
    });
    await assert.rejects(connect({ host: "localhost", port: 80, servername: "x" } as never), {
      message: /^unknown option "servername": TLS options belong to connectTls/,
    });
    await assert.rejects(connect({ host: "localhost", port: 80, lookup: () => {} } as never), {
      message: /^unknown option "lookup": pass a resolver/,
    });
    await assert.rejects(bunConnect({ host: "localhost", port: 80 } as never), {
      message: /^unknown option "host": the host goes in hostname/,
    });
    await assert.rejects(connect({ hostname: "localhost", port: 80 } as never), {
      message: /^unknown option "hostname": the host goes in host/,
    });
  });

  it("a port in the host says the port goes in port", async () => {
    await assert.rejects(connect({ host: "example.com:443", port: 443 }), {
      name: "RangeError",
      message: 'host "example.com:443" includes a port: pass host: "example.com" and port: 443',
    });
    await assert.rejects(bunConnect({ hostname: "[2001:db8::1]:8443", port: 1 }), {
      message: /^hostname "\[2001:db8::1\]:8443" includes a port: pass hostname: "2001:db8::1"/,
    });
    // A bare IPv6 literal is not a host with a port.
    await assert.rejects(connect({ host: "2001:db8::1", port: 1, timeout: 1, family: 4 }), {
      message: /is IPv6 but family is 4/,
    });
  });

  it("takes the port as a string of digits, as net.connect does, and rejects other strings naming port", async () => {
    const socket = await connect({ host: "127.0.0.1", port: String(server.port) });
    assert.equal(socket.remotePort, server.port);
    socket.destroy();
    await assert.rejects(connect({ host: "127.0.0.1", port: "http" }), {
      name: "RangeError",
      message: /^port must be a number from 1 to 65535 or a string of digits, got "http"/,
    });
    await assert.rejects(connect({ host: "127.0.0.1", port: "70000" }), { message: /^port must be an integer/ });
  });

  it("socket options are type-checked, naming the option", async () => {
    const base = { host: "127.0.0.1", port: server.port };
    await assert.rejects(connect({ ...base, noDelay: "yes" } as never), { message: /^noDelay must be true or false/ });
    await assert.rejects(connect({ ...base, keepAlive: 1 } as never), { message: /^keepAlive must be true or false/ });
    await assert.rejects(connect({ ...base, keepAliveInitialDelay: -1 }), {
      message: /^keepAliveInitialDelay must be a finite number ≥ 0/,
    });
    await assert.rejects(connect({ ...base, localAddress: "eth0" }), {
      name: "TypeError",
      message: /^localAddress must be an IP address, got "eth0"/,
    });
    await assert.rejects(connect({ ...base, localAddress: "::1", family: 4 }), {
      message: /^localAddress ::1 is IPv6 but family is 4/,
    });
    // createConnection ignores keys net ignores (tests/clients/http.test.ts), but checks the ones it takes.
    assert.throws(() => createConnection({ ...base, noDelay: "yes" } as never), { message: /^noDelay must be true/ });
  });

  it("noDelay and keepAlive reach the winning socket", async () => {
    const socket = await connect({ host: "127.0.0.1", port: server.port, noDelay: true, keepAlive: true });
    try {
      const { setNoDelay, setKeepAlive } = await tuned(socket);
      assert.ok(setNoDelay || runtime !== "node", "noDelay was not applied");
      assert.ok(setKeepAlive || runtime !== "node", "keepAlive was not applied");
    } finally {
      socket.destroy();
    }
  });

  it("localAddress: dials from it, and only its family (the IPv6 answer is skipped)", async () => {
    const { conn, attempts } = await connectWithTimeline({
      host: "dual.test",
      port: server.port,
      resolver: deadFirstResolver,
      localAddress: "127.0.0.1",
    });
    try {
      assert.equal(conn.localAddress, "127.0.0.1");
      assert.deepEqual(attempts.map((a) => a.address), ["127.0.0.1"]);
    } finally {
      conn.destroy();
    }
  });
});

/**
 * Whether setNoDelay/setKeepAlive were called on the winner: Node keeps the flags in
 * symbols (kSetNoDelay, kSetKeepAlive); other runtimes give no way to read them back.
 */
function tuned(socket: net.Socket): Promise<{ setNoDelay: boolean; setKeepAlive: boolean }> {
  const flags = Object.getOwnPropertySymbols(socket).map((s) => [String(s), (socket as never)[s]] as const);
  const flag = (name: string) => flags.some(([key, value]) => key === `Symbol(${name})` && value === true);
  return Promise.resolve({ setNoDelay: flag("kSetNoDelay"), setKeepAlive: flag("kSetKeepAlive") });
}

describe(
  "adapter options (Deno)",
  { skip: runtime === "deno" ? false : "the Deno adapter runs only under Deno" },
  () => {
    it('takes transport: "tcp", a string port, noDelay and keepAlive; names anything else', async () => {
      const deno = await import("../../src/adapters/deno/mod.ts");
      const conn = await deno.connect({
        hostname: "127.0.0.1",
        port: String(server.port),
        transport: "tcp",
        noDelay: true,
        keepAlive: true,
      });
      conn.close();
      await assert.rejects(deno.connect({ hostname: "x.test", port: 1, transport: "udp" } as never), {
        message: /^transport must be "tcp", got "udp"/,
      });
      await assert.rejects(deno.connect({ hostname: "x.test", port: 1, tls: true } as never), {
        message: /^unknown option "tls": for TLS use connectTls/,
      });
      await assert.rejects(deno.connect({ hostname: "x.test", port: 1, localAddress: "127.0.0.1" } as never), {
        message: /^unknown option "localAddress"/,
      });
      await assert.rejects(deno.connect({ hostname: "x.test:80", port: 80 }), { message: /includes a port/ });
      const { attempts, address } = await deno.connectWithTimeline({
        hostname: "dual.test",
        port: server.port,
        resolver: deadFirstResolver,
        history: false, // the connect above taught the default history to skip the dead address
      });
      assert.equal(address, "127.0.0.1");
      assert.deepEqual(attempts.map((a) => a.outcome), ["failed", "won"]);
    });
  },
);
