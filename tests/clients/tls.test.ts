/**
 * TLS on the winner: the TCP race first (a refused ::1 before 127.0.0.1),
 * then TLS. Node's and Bun's `connectTls` run on node:tls, which all three
 * runtimes have; Deno's own (`Deno.startTls`) runs under Deno.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connectTls, connectWithTimeline, TlsHandshakeError } from "../../src/adapters/node/mod.ts";
import { connectTls as bunConnectTls } from "../../src/adapters/bun/mod.ts";
import { type TestCa, testCa } from "../helpers/test_ca.ts";
import {
  deadFirstResolver,
  eventually,
  listen,
  readAll,
  runtime,
  type Seen,
  type Started,
  startTls,
} from "./helpers.ts";
import net from "node:net";
import type tls from "node:tls";

let ca: TestCa;
let server: Started<tls.Server> & { seen: Seen[] };

before(async () => {
  ca = await testCa();
  server = await startTls({
    key: ca.serverKey,
    cert: ca.serverCert,
    ca: [ca.caCert],
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ["h2", "http/1.1"],
  });
});
after(() => server.close());

const lastSeen = () => server.seen[server.seen.length - 1];

describe("connectTls (node:tls)", () => {
  it("races past a refused address, then sends SNI = the name, agrees ALPN, trusts the custom CA, presents a client certificate", async () => {
    const socket = await connectTls({
      host: "eyeballs.test",
      port: server.port,
      resolver: deadFirstResolver,
      ca: [ca.caCert],
      key: ca.clientKey,
      cert: ca.clientCert,
      ALPNProtocols: ["http/1.1"],
    });
    assert.equal(socket.authorized, true);
    assert.equal(socket.alpnProtocol, "http/1.1");
    assert.equal(socket.remoteAddress, "127.0.0.1");
    assert.equal(await readAll(socket), "hi\n");
    assert.deepEqual(lastSeen(), {
      servername: "eyeballs.test",
      alpn: "http/1.1",
      authorized: true,
      clientCn: "eyeballs test client",
    });
  });

  it("sends no SNI for an IP literal, and checks the certificate against the IP", async () => {
    const socket = await connectTls({ host: "127.0.0.1", port: String(server.port), ca: [ca.caCert] });
    assert.equal(socket.authorized, true);
    await readAll(socket);
    assert.ok(!lastSeen().servername, `servername ${lastSeen().servername}`);
  });

  it("takes servername from the caller, and a trailing dot off the name", async () => {
    const socket = await connectTls({ host: "localhost.", port: server.port, ca: [ca.caCert] });
    await readAll(socket);
    assert.equal(lastSeen().servername, "localhost");
    const other = await connectTls({
      host: "127.0.0.1",
      port: server.port,
      ca: [ca.caCert],
      servername: "eyeballs.test",
    });
    await readAll(other);
    assert.equal(lastSeen().servername, "eyeballs.test");
  });

  it("a certificate for another name fails naming the host and the address, and closes the connection", async () => {
    const before = server.open();
    const error = await connectTls({
      host: "wrong.test",
      port: server.port,
      resolver: deadFirstResolver,
      ca: [ca.caCert],
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof TlsHandshakeError, String(error));
    assert.match(error.message, /^TLS with wrong\.test \(127\.0\.0\.1 port \d+\) failed: /);
    assert.equal(error.host, "wrong.test");
    assert.equal(error.address, "127.0.0.1");
    assert.match(error.message, /wrong\.test/);
    assert.ok(error.cause instanceof Error);
    assert.ok(await eventually(() => server.open() <= before), "the server still has the connection open");
  });

  it("an unknown CA fails naming the host and the address", async () => {
    const error = await connectTls({ host: "localhost", port: server.port, ca: [ca.strangerCert] }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof TlsHandshakeError, String(error));
    assert.match(error.message, /^TLS with localhost \(127\.0\.0\.1 port \d+\) failed: ./);
  });

  it("timeout covers the handshake: a server that never speaks TLS times the connect out", async () => {
    const silent = await listen(net.createServer((s) => s.resume()));
    try {
      // The race runs to the handshake: the timeout ends the race, whose error says so.
      await assert.rejects(connectTls({ host: "127.0.0.1", port: silent.port, timeout: 300 }), {
        name: "ConnectError",
        message: /timed out after 300 ms/,
      });
      assert.ok(await eventually(() => silent.open() === 0), "the silent server's connection is still open");
    } finally {
      await silent.close();
    }
  });

  it("the signal aborts the handshake", async () => {
    const silent = await listen(net.createServer((s) => s.resume()));
    try {
      const controller = new AbortController();
      const connecting = connectTls({ host: "127.0.0.1", port: silent.port, signal: controller.signal });
      await eventually(() => silent.accepted() === 1);
      controller.abort(new Error("stop"));
      await assert.rejects(connecting, { message: "stop" });
      assert.ok(await eventually(() => silent.open() === 0), "the silent server's connection is still open");
    } finally {
      await silent.close();
    }
  });

  it("the Bun adapter's connectTls takes hostname, as Bun.connect does", async () => {
    const socket = await bunConnectTls({
      hostname: "eyeballs.test",
      port: server.port,
      resolver: deadFirstResolver,
      ca: [ca.caCert],
    });
    assert.equal(socket.authorized, true);
    await readAll(socket);
    assert.equal(lastSeen().servername, "eyeballs.test");
  });

  it("connectWithTimeline hands back the race: the refused ::1, then 127.0.0.1", async () => {
    const { conn, address, attempts } = await connectWithTimeline({
      host: "eyeballs.test",
      port: server.port,
      resolver: deadFirstResolver,
      history: false, // the tests above taught the default history to skip the refused ::1
    });
    conn.destroy();
    assert.equal(address, "127.0.0.1");
    assert.deepEqual(attempts.map((a) => [a.address, a.outcome]), [["::1", "failed"], ["127.0.0.1", "won"]]);
  });
});

describe(
  "connectTls (Deno.startTls)",
  { skip: runtime === "deno" ? false : "Deno.startTls exists only under Deno" },
  () => {
    it("races, then checks the certificate against the name with the custom CA and agrees ALPN", async () => {
      const { connectTls: denoConnectTls } = await import("../../src/adapters/deno/mod.ts");
      const conn = await denoConnectTls({
        hostname: "eyeballs.test",
        port: server.port,
        resolver: deadFirstResolver,
        caCerts: [ca.caCert],
        alpnProtocols: ["http/1.1"],
      });
      const info = await conn.handshake();
      assert.equal(info.alpnProtocol, "http/1.1");
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      assert.equal(new TextDecoder().decode(buffer.subarray(0, n!)), "hi\n");
      conn.close();
      assert.equal(lastSeen().servername, "eyeballs.test");
    });

    it("a certificate error names the host and the address", async () => {
      const { connectTls: denoConnectTls, TlsHandshakeError: DenoTlsError } = await import(
        "../../src/adapters/deno/mod.ts"
      );
      const error = await denoConnectTls({
        hostname: "wrong.test",
        port: server.port,
        resolver: deadFirstResolver,
        caCerts: [ca.caCert],
      }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof DenoTlsError, String(error));
      assert.match((error as Error).message, /^TLS with wrong\.test \(127\.0\.0\.1 port \d+\) failed: /);
    });

    it("timeout covers the handshake", async () => {
      const { connectTls: denoConnectTls } = await import("../../src/adapters/deno/mod.ts");
      const silent = await listen(net.createServer((s) => s.resume()));
      try {
        await assert.rejects(denoConnectTls({ hostname: "127.0.0.1", port: silent.port, timeout: 300 }), {
          name: "ConnectError",
          message: /timed out after 300 ms/,
        });
        // Not asserted: Deno 2.9 keeps the TCP connection under a TlsConn closed mid-handshake open
        // (close() cancels the handshake, the server never sees a FIN). docs/clients.md lists it.
      } finally {
        await silent.close();
      }
    });
  },
);
