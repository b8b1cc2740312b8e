/**
 * Racing to the TLS handshake (src/adapters/shared/tls_race.ts): on one port, 127.0.0.1 answers TCP and then
 * stalls (or presents a certificate for another name) and ::1 completes TLS. IPv4 leads, so its TCP connects first;
 * with `raceUntil: "tls"` (the default) the race goes on and ::1 wins, and the stalled connection is closed. With
 * `raceUntil: "tcp"` the connect commits to 127.0.0.1, as `tls.connect` and `Deno.connectTls` do.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import https from "node:https";
import tls from "node:tls";
import { EyeballsHttpsAgent } from "../../src/clients/mod.ts";
import { connectTls as nodeConnectTls, TlsHandshakeError } from "../../src/adapters/node/mod.ts";
import { connectTls as bunConnectTls } from "../../src/adapters/bun/mod.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import type { ConnectEvent, Resolver, ServiceRecord } from "../../src/base/types.ts";
import { type TestCa, testCa } from "../helpers/test_ca.ts";
import { eventually, runtime } from "../clients/helpers.ts";

let ca: TestCa;
let port: number;
let stalls: net.Server; // 127.0.0.1: TCP, then silence
let wrongName: tls.Server; // 127.0.0.1 on a second port: a certificate without eyeballs.test
let wrongPort: number;
let good: tls.Server; // ::1 on both ports: the right certificate
let good2: tls.Server;
const open = new Set<net.Socket>();

function track(socket: net.Socket): void {
  open.add(socket);
  socket.on("close", () => open.delete(socket));
  socket.on("error", () => {});
}

const openOn = (address: string, onPort: number) =>
  [...open].filter((s) => !s.destroyed && s.localAddress === address && s.localPort === onPort).length;

function listenOn<S extends net.Server>(server: S, host: string, onPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(onPort, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

const resolver: Resolver = {
  resolve: (_name, family) => Promise.resolve(family === 4 ? ["127.0.0.1"] : ["::1"]),
};

before(async () => {
  ca = await testCa();
  const serve = (s: tls.TLSSocket) => s.end("hi\n");
  stalls = net.createServer((s) => {
    track(s);
    s.resume();
  });
  port = await listenOn(stalls, "127.0.0.1", 0);
  good = tls.createServer({ key: ca.serverKey, cert: ca.serverCert }, serve).on("connection", track);
  await listenOn(good, "::1", port);
  wrongName = tls.createServer({ key: ca.clientKey, cert: ca.clientCert }, serve).on("connection", track);
  wrongPort = await listenOn(wrongName, "127.0.0.1", 0);
  good2 = tls.createServer({ key: ca.serverKey, cert: ca.serverCert }, serve).on("connection", track);
  await listenOn(good2, "::1", wrongPort);
});

after(async () => {
  for (const socket of open) socket.destroy();
  await Promise.all([stalls, good, wrongName, good2].map((s) => new Promise((r) => s.close(r))));
});

// No history: what one case learnt (::1 completes TLS) would reorder the next.
const settings = { resolver, preferredFamily: 4 as const, schedule: fixedDelay(50), history: false as const };

const entries = [
  {
    name: "node",
    connect: ({ bracketed, ...o }: Record<string, unknown>) =>
      nodeConnectTls({ host: bracketed ? "[::1]" : "eyeballs.test", ...o } as never),
  },
  {
    name: "bun",
    connect: ({ bracketed, ...o }: Record<string, unknown>) =>
      bunConnectTls({ hostname: bracketed ? "[::1]" : "eyeballs.test", ...o } as never),
  },
];

for (const entry of entries) {
  describe(`connectTls (${entry.name}) races to the handshake`, () => {
    it("a TCP winner whose handshake stalls loses to the next address, and is closed", async () => {
      const socket = await entry.connect({ ...settings, ca: [ca.caCert], port });
      try {
        assert.equal(socket.remoteAddress, "::1");
        assert.equal(socket.authorized, true);
        assert.ok(await eventually(() => openOn("127.0.0.1", port) === 0), "the stalled connection is still open");
      } finally {
        socket.destroy();
      }
    });

    it("a certificate for another name fails that attempt only: the next address wins", async () => {
      const socket = await entry.connect({ ...settings, ca: [ca.caCert], port: wrongPort });
      try {
        assert.equal(socket.remoteAddress, "::1");
        assert.equal(socket.authorized, true);
      } finally {
        socket.destroy();
      }
    });

    it('raceUntil "tcp" commits to the first TCP connection, as tls.connect does: the stall times out', async () => {
      await assert.rejects(entry.connect({ ...settings, ca: [ca.caCert], port, raceUntil: "tcp", timeout: 400 }), {
        message: /timed out after 400 ms/,
      });
      assert.ok(await eventually(() => openOn("127.0.0.1", port) === 0), "the stalled connection is still open");
    });

    it("the ALPN it offers is the race's: an HTTPS endpoint speaking none of it is skipped", async () => {
      const h2only: ServiceRecord = {
        priority: 1,
        target: "h2only.test",
        params: { alpn: ["h2"], noDefaultAlpn: true, unknown: [] },
      };
      const services: Resolver = {
        ...resolver,
        resolveServices: () => Promise.resolve({ name: "eyeballs.test", records: [h2only], skipped: [], ttl: 60 }),
      };
      for (const [offered, skipped] of [[["http/1.1"], ["h2only.test"]], [["h2", "http/1.1"], []]] as const) {
        const events: ConnectEvent[] = [];
        const socket = await entry.connect({
          ...settings,
          resolver: services,
          scheme: "https",
          ca: [ca.caCert],
          port,
          ALPNProtocols: [...offered],
          onEvent: (e: ConnectEvent) => events.push(e),
        });
        socket.destroy();
        const skips = events.flatMap((e) => e.type === "endpoint-skipped" ? [e.target] : []);
        assert.deepEqual(skips, skipped, `offering ${offered}`);
      }
    });

    it("a handshake that fails on every address it reaches is a TlsHandshakeError naming each", async () => {
      const error = await entry.connect({ ...settings, ca: [ca.strangerCert], port: wrongPort }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof TlsHandshakeError, String(error));
      assert.match(error.message, /failed on every address it reached: /);
      assert.match(error.message, /127\.0\.0\.1: /);
      assert.match(error.message, /::1: /);
    });

    it("a bracketed IPv6 host is checked against the certificate as ::1, as tls.connect checks ::1 (issue 15, item 18)", async () => {
      // The original on this runtime: Node 22.23's checkServerIdentity refuses ::1 against an IP SAN it prints as
      // 0:0:0:0:0:0:0:1 (docs/known-limits.md); eyeballs must do what it does.
      const original = await new Promise<boolean>((resolve) => {
        const s = tls.connect({ host: "::1", port, ca: [ca.caCert] }, () => (s.destroy(), resolve(true)));
        s.once("error", () => resolve(false));
      });
      for (const raceUntil of ["tls", "tcp"]) {
        const outcome = await entry.connect({ ca: [ca.caCert], port, history: false, raceUntil, bracketed: true }).then(
          (socket) => {
            const ok = socket.remoteAddress === "::1" && socket.authorized === true;
            socket.destroy();
            return ok;
          },
          (error: unknown) => (assert.ok(error instanceof TlsHandshakeError, String(error)), false),
        );
        assert.equal(outcome, original, `raceUntil ${raceUntil}: eyeballs ${outcome}, tls.connect ${original}`);
      }
    });

    it('raceUntil takes only "tcp" or "tls", naming the field', async () => {
      await assert.rejects(entry.connect({ ...settings, ca: [ca.caCert], port, raceUntil: "http" }), {
        name: "RangeError",
        message: /raceUntil must be "tcp" or "tls", got "http"/,
      });
    });
  });
}

describe("connectTls (Deno.startTls) races to the handshake", { skip: runtime !== "deno" && "Deno only" }, () => {
  it("a TCP winner whose handshake stalls loses to the next address", async () => {
    const { connectTls } = await import("../../src/adapters/deno/mod.ts");
    const conn = await connectTls({ hostname: "eyeballs.test", port, ...settings, caCerts: [ca.caCert] });
    try {
      assert.equal((conn.remoteAddr as { hostname: string }).hostname, "::1");
      // Not asserted: Deno 2.9 keeps the TCP connection under a TlsConn closed mid-handshake open (docs/clients.md).
    } finally {
      conn.close();
    }
  });

  it("a certificate for another name fails that attempt only", async () => {
    const { connectTls } = await import("../../src/adapters/deno/mod.ts");
    const conn = await connectTls(
      { hostname: "eyeballs.test", port: wrongPort, ...settings, caCerts: [ca.caCert] },
    );
    try {
      assert.equal((conn.remoteAddr as { hostname: string }).hostname, "::1");
    } finally {
      conn.close();
    }
  });
});

describe("EyeballsHttpsAgent races to the handshake", () => {
  let web: https.Server; // ::1: HTTPS
  let silent: net.Server; // 127.0.0.1 on the same port: TCP, then silence
  let webPort: number;
  before(async () => {
    silent = net.createServer((s) => {
      track(s);
      s.resume();
    });
    webPort = await listenOn(silent, "127.0.0.1", 0);
    web = https.createServer({ key: ca.serverKey, cert: ca.serverCert }, (req, res) => {
      res.end(`hello from ${req.socket.localAddress}`);
    }).on("connection", track);
    await listenOn(web, "::1", webPort);
  });
  after(async () => {
    for (const socket of open) if (socket.localPort === webPort) socket.destroy();
    await Promise.all([web, silent].map((s) => new Promise((r) => s.close(r))));
  });

  /** One GET through `agent`: the body and the socket it came over, or the error. */
  const get = (agent: https.Agent, timeout?: number) =>
    new Promise<{ body?: string; socket?: tls.TLSSocket; subject?: string; error?: Error }>((resolve) => {
      const req = https.get(`https://eyeballs.test:${webPort}/`, { agent }, (res) => {
        const socket = res.socket as tls.TLSSocket;
        const subject = String((socket.getPeerCertificate() as tls.PeerCertificate).subject?.CN); // while connected
        let body = "";
        res.setEncoding("utf8").on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ body, socket, subject }));
      });
      // Our own timer: Bun 1.4's https.get does not apply `timeout` to a socket that stalls in its handshake.
      const timer = timeout && setTimeout(() => req.destroy(new Error("the request timed out")), timeout);
      req.on("close", () => timer && clearTimeout(timer));
      req.on("error", (error) => resolve({ error }));
    });

  it("a TCP winner whose handshake stalls loses to the next address; the request goes there; the stall is closed", async () => {
    const agent = new EyeballsHttpsAgent({ ca: [ca.caCert], race: settings });
    try {
      const { body, socket, subject, error } = await get(agent);
      assert.equal(error, undefined);
      assert.equal(body, "hello from ::1");
      // The TLS state reads through, as on a tls.TLSSocket.
      assert.equal(socket!.encrypted, true);
      assert.equal(socket!.authorized, true);
      assert.equal(subject, "localhost"); // the test CA's server certificate
      assert.ok(await eventually(() => openOn("127.0.0.1", webPort) === 0), "the stalled connection is still open");
    } finally {
      agent.destroy();
    }
  });

  it('raceUntil "tcp": TLS on the first TCP connection alone, as https.Agent does, so the request stalls there', async () => {
    const agent = new EyeballsHttpsAgent({ ca: [ca.caCert], race: settings, raceUntil: "tcp" });
    try {
      const { error } = await get(agent, 400);
      assert.match(String(error), /the request timed out/);
      assert.ok(await eventually(() => openOn("127.0.0.1", webPort) === 0), "the stalled connection is still open");
    } finally {
      agent.destroy();
    }
  });

  it("a bad raceUntil is a RangeError naming the field", () => {
    assert.throws(() => new EyeballsHttpsAgent({ raceUntil: "udp" as never }), {
      name: "RangeError",
      message: 'raceUntil must be "tcp" or "tls", got "udp"',
    });
  });
});
