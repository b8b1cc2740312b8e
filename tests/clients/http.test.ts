/**
 * createConnection's socket contract, the http/https Agents and the undici
 * connector against local HTTP/1.1 and HTTPS servers, each name answered
 * with a dead address first (a refused or a blackholed ::1).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import process from "node:process";
import { createRequire } from "node:module";
import { ConnectError } from "../../src/base/errors.ts";
import { createConnection, EyeballsAgent, EyeballsHttpsAgent, undiciConnector } from "../../src/clients/mod.ts";
import { fixedDelay } from "../../src/race/schedule.ts";
import { startFullQueueListener } from "../../scripts/full_queue.ts";
import { type TestCa, testCa } from "../helpers/test_ca.ts";
import { deadFirstResolver, eventually, runtime, type Started, startHttp, startHttps } from "./helpers.ts";

// By path: Bun answers the bare "undici" with its own stand-in, which has no connect hook.
const undici: typeof import("undici") = await import(createRequire(import.meta.url).resolve("undici/index.js"));
const { Agent, fetch } = undici;

let ca: TestCa;
let plain: Started<http.Server>;
let secure: Started<https.Server>;

before(async () => {
  ca = await testCa();
  plain = await startHttp();
  secure = await startHttps(ca.serverKey, ca.serverCert);
});
after(async () => {
  await plain.close();
  await secure.close();
});

/** GETs `url` through `agent`; resolves with the body and the client port the server saw. */
function get(url: string, agent: http.Agent): Promise<{ body: string; clientPort: string }> {
  const client = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    client.get(url, { agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ body, clientPort: String(res.headers["x-client-port"]) }));
    }).on("error", reject);
  });
}

describe("createConnection", () => {
  it("returns a socket still connecting; 'connect' and the callback on win; data both ways", async () => {
    let called = false;
    const socket = createConnection({ host: "web.test", port: plain.port, resolver: deadFirstResolver }, () => {
      called = true;
    });
    assert.equal(socket.connecting, true);
    assert.equal(socket.pending, true);
    assert.equal(socket.readyState, "opening");
    assert.equal(socket.connect(plain.port, "web.test"), socket, "connect() must be harmless and chainable");
    socket.setNoDelay(true).setKeepAlive(true, 1000).setTimeout(0);
    socket.write("GET /early HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n"); // written while connecting
    await new Promise((resolve) => socket.once("connect", resolve));
    assert.equal(called, true);
    assert.equal(socket.connecting, false);
    assert.equal(socket.remoteAddress, "127.0.0.1");
    assert.equal(socket.remotePort, plain.port);
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (text += chunk));
    await new Promise((resolve) => socket.once("close", resolve));
    assert.match(text, /^HTTP\/1\.1 200 OK/);
    assert.match(text, /GET \/early$/);
  });

  it("emits 'error' with the ConnectError when every address fails", async () => {
    const dead = await startHttp();
    const port = dead.port;
    await dead.close(); // nothing listens on it now: refused on both families
    const socket = createConnection({ host: "web.test", port, resolver: deadFirstResolver });
    const error = await new Promise((resolve) => socket.once("error", resolve));
    assert.ok(error instanceof ConnectError, String(error));
    assert.match((error as Error).message, /::1.*refused[\s\S]*127\.0\.0\.1.*refused/);
    assert.equal(socket.destroyed, true);
  });

  it("destroy() aborts the race: the blackholed attempt is released and no 'connect' follows", async () => {
    const blackhole = await startFullQueueListener("::1");
    try {
      const socket = createConnection({ host: "::1", port: blackhole.port });
      let connected = false;
      socket.on("connect", () => (connected = true));
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      await new Promise((resolve) => socket.once("close", resolve));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(connected, false);
      assert.equal(socket.connecting, false);
    } finally {
      await blackhole.stop();
    }
  });

  it("setTimeout fires 'timeout' while the race is still on (ioredis's connectTimeout relies on it)", async () => {
    const blackhole = await startFullQueueListener("::1");
    try {
      const socket = createConnection({ host: "::1", port: blackhole.port });
      await new Promise<void>((resolve) => socket.setTimeout(100, resolve));
      assert.equal(socket.connecting, true);
      socket.destroy();
    } finally {
      await blackhole.stop();
    }
  });

  it("unref() lets the race's sockets not hold the process; ref() undoes it", async () => {
    const socket = createConnection({ host: "127.0.0.1", port: plain.port });
    assert.equal(socket.unref(), socket);
    assert.equal(socket.ref(), socket);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.unref();
    socket.destroy();
  });
});

describe("createConnection as a plain http.Agent's factory", () => {
  it("agent.createConnection = createConnection: the request's own options (protocol, path, agent…) are ignored", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const seen: string[][] = [];
    agent.createConnection = ((options: Record<string, unknown>, callback?: () => void) => {
      seen.push(Object.keys(options));
      return createConnection(options as never, callback);
    }) as never;
    try {
      const { body } = await get(`http://127.0.0.1:${plain.port}/one-liner`, agent);
      assert.equal(body, "GET /one-liner");
      assert.ok(seen[0].includes("path") && seen[0].includes("agent"), `the Agent passed ${seen[0]}`);
    } finally {
      agent.destroy();
    }
  });

  it("ignores what net.createConnection ignores; refuses what net would honour and a race cannot", () => {
    const port = plain.port;
    for (const key of ["lookup", "localPort"]) {
      const value = key === "lookup" ? () => {} : 40000;
      assert.throws(() => createConnection({ host: "127.0.0.1", port, [key]: value } as never), {
        name: "TypeError",
        message: new RegExp(`"${key}"`),
      });
    }
    assert.throws(() => createConnection({ host: "127.0.0.1", port, path: "/tmp/x.sock" } as never), /"path"/);
    assert.throws(() => createConnection({ host: "127.0.0.1", port: "http" }), /port/);
    const socket = createConnection({ host: "127.0.0.1", port, protocol: "http:", path: null, tls: true } as never);
    socket.destroy();
  });
});

describe("http.Agent and https.Agent", () => {
  it("http: a request goes through the race; keep-alive reuses the connection", async () => {
    const agent = new EyeballsAgent({ keepAlive: true, maxSockets: 1, race: { resolver: deadFirstResolver } });
    try {
      const first = await get(`http://web.test:${plain.port}/one`, agent);
      await new Promise((r) => setTimeout(r, 50)); // the socket goes back to the free pool just after 'end'
      const second = await get(`http://web.test:${plain.port}/two`, agent);
      assert.equal(first.body, "GET /one");
      assert.equal(second.body, "GET /two");
      assert.equal(second.clientPort, first.clientPort, "keep-alive did not reuse the connection");
    } finally {
      agent.destroy();
    }
  });

  it("http: maxSockets holds: three parallel requests on one socket", async () => {
    const agent = new EyeballsAgent({ keepAlive: true, maxSockets: 1, race: { resolver: deadFirstResolver } });
    try {
      const results = await Promise.all([1, 2, 3].map((n) => get(`http://web.test:${plain.port}/${n}`, agent)));
      assert.deepEqual(results.map((r) => r.body), ["GET /1", "GET /2", "GET /3"]);
      assert.equal(new Set(results.map((r) => r.clientPort)).size, 1, "more than one connection");
    } finally {
      agent.destroy();
    }
  });

  it("http: a failed race reaches the request as its 'error'", async () => {
    const dead = await startHttp();
    const port = dead.port;
    await dead.close();
    const agent = new EyeballsAgent({ race: { resolver: deadFirstResolver } });
    await assert.rejects(get(`http://web.test:${port}/`, agent), (error: Error) => error instanceof ConnectError);
    agent.destroy();
  });

  it(
    "http: race.timeout bounds the race (createConnection's connectTimeout), not idleness",
    { timeout: 10_000 },
    async () => {
      const blackhole = await startFullQueueListener("127.0.0.1");
      const agent = new EyeballsAgent({ race: { timeout: 200 } });
      try {
        const error = await get(`http://127.0.0.1:${blackhole.port}/`, agent).then(
          () => assert.fail("no error"),
          (e) => e,
        );
        assert.ok(error instanceof ConnectError, String(error));
        assert.match(error.message, /timed out after 200 ms/);
      } finally {
        agent.destroy();
        await blackhole.stop();
      }
    },
  );

  it("https: TLS on the winner with SNI from the URL's name, the agent's CA, keep-alive reuse", async () => {
    const agent = new EyeballsHttpsAgent({ keepAlive: true, ca: [ca.caCert], race: { resolver: deadFirstResolver } });
    try {
      const first = await get(`https://eyeballs.test:${secure.port}/a`, agent);
      const second = await get(`https://eyeballs.test:${secure.port}/b`, agent);
      assert.equal(first.body, "GET /a");
      assert.equal(second.clientPort, first.clientPort);
      await assert.rejects(
        get(`https://wrong.test:${secure.port}/`, agent),
        /TLS with wrong\.test \(127\.0\.0\.1 port \d+\) failed/,
      );
    } finally {
      agent.destroy();
    }
  });
});

describe("undici connector", () => {
  it("fetch through new Agent({ connect }): the race, then keep-alive reuse", async () => {
    const dispatcher = new Agent({ connect: undiciConnector({ resolver: deadFirstResolver }) });
    try {
      const before = plain.accepted();
      const one = await fetch(`http://web.test:${plain.port}/one`, { dispatcher });
      assert.equal(await one.text(), "GET /one");
      // undici gives the connection back to its pool a moment after the body ends (the same with its own connector).
      await new Promise((r) => setTimeout(r, 50));
      const two = await fetch(`http://web.test:${plain.port}/two`, { dispatcher });
      assert.equal(await two.text(), "GET /two");
      assert.equal(two.headers.get("x-client-port"), one.headers.get("x-client-port"));
      assert.equal(plain.accepted() - before, 1);
    } finally {
      await dispatcher.close();
    }
  });

  it("raceUntil: checked when the connector is made; either value serves http and https", async () => {
    assert.throws(() => undiciConnector({ raceUntil: "udp" as never }), {
      name: "RangeError",
      message: 'raceUntil must be "tcp" or "tls", got "udp"',
    });
    for (const raceUntil of ["tcp", "tls"] as const) {
      const connect = undiciConnector({ resolver: deadFirstResolver, ca: [ca.caCert], raceUntil });
      const dispatcher = new Agent({ connect });
      try {
        const plainAnswer = await fetch(`http://web.test:${plain.port}/p`, { dispatcher });
        assert.equal(await plainAnswer.text(), "GET /p");
        const secureAnswer = await fetch(`https://eyeballs.test:${secure.port}/s`, { dispatcher });
        assert.equal(await secureAnswer.text(), "GET /s");
      } finally {
        await dispatcher.close();
      }
    }
  });

  it("https: TLS on the winner, SNI from undici's servername, custom CA", async () => {
    const dispatcher = new Agent({ connect: undiciConnector({ resolver: deadFirstResolver, ca: [ca.caCert] }) });
    try {
      const res = await fetch(`https://eyeballs.test:${secure.port}/s`, { dispatcher });
      assert.equal(await res.text(), "GET /s");
    } finally {
      await dispatcher.close();
    }
  });

  it("errors reach the request, never an unhandled rejection", async () => {
    const dead = await startHttp();
    const port = dead.port;
    await dead.close();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const dispatcher = new Agent({
      connect: undiciConnector({ resolver: deadFirstResolver, schedule: fixedDelay(10) }),
    });
    try {
      const error = await fetch(`http://web.test:${port}/`, { dispatcher }).then(() => undefined, (e) => e);
      assert.ok(error instanceof TypeError, String(error)); // fetch failed
      assert.ok(error.cause instanceof ConnectError, String(error.cause));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await dispatcher.close();
    }
  });

  it("https through a proxy: TLS runs on undici's tunnel (httpSocket), checked against the origin's name", async () => {
    const connector = undiciConnector({ ca: [ca.caCert] });
    const tunnel = await new Promise<import("node:net").Socket>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port: secure.port }, () => resolve(s)); // stands for a CONNECT tunnel
      s.once("error", reject);
    });
    const socket = await new Promise<import("node:tls").TLSSocket>((resolve, reject) =>
      connector(
        { hostname: "eyeballs.test", protocol: "https:", port: String(secure.port), httpSocket: tunnel },
        (...[error, s]) => (error ? reject(error) : resolve(s as import("node:tls").TLSSocket)),
      )
    );
    assert.equal(socket.authorized, true); // the certificate checked against eyeballs.test, over the tunnel
    socket.destroy();
  });

  it("the tunnel's handshake is bounded by timeout; its SNI is never an IP literal (issue 15, item 20)", async () => {
    // A tunnel to a server that never speaks TLS: the connector's timeout ends the handshake and closes the tunnel.
    const silent = net.createServer((s) => s.on("error", () => {}).resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const tunnel = net.connect({ host: "127.0.0.1", port: silentPort });
      await new Promise((resolve) => tunnel.once("connect", resolve));
      const error = await new Promise<Error | null>((resolve) =>
        undiciConnector({ timeout: 200 })(
          { hostname: "eyeballs.test", protocol: "https:", port: String(silentPort), httpSocket: tunnel },
          (...[e]) => resolve(e),
        )
      );
      assert.equal(error?.name, "TimeoutError", String(error));
      assert.ok(await eventually(() => tunnel.destroyed), "the tunnel is still open");
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
    // An IP literal origin: no SNI (undici passes the literal as servername), and no DEP0123 warning.
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.name);
    process.on("warning", onWarning);
    try {
      const tunnel = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: "127.0.0.1", port: secure.port }, () => resolve(s));
        s.once("error", reject);
      });
      const socket = await new Promise<import("node:tls").TLSSocket>((resolve, reject) =>
        undiciConnector({ ca: [ca.caCert] })(
          {
            hostname: "127.0.0.1",
            servername: "127.0.0.1",
            protocol: "https:",
            port: String(secure.port),
            httpSocket: tunnel,
          },
          (...[error, s]) => (error ? reject(error) : resolve(s as import("node:tls").TLSSocket)),
        )
      );
      assert.equal(socket.authorized, true); // checked against the IP, which the certificate carries
      assert.ok(!(socket as { servername?: string | false }).servername, "an IP literal was sent as SNI");
      socket.destroy();
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(warnings.filter((w) => w === "DEP0123"), []);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("takes undici's option shapes: host as host:port, port as a string, empty port for the default", async () => {
    const connector = undiciConnector({ resolver: deadFirstResolver });
    const socket = await new Promise<import("node:net").Socket>((resolve, reject) =>
      connector(
        { hostname: "web.test", host: `web.test:${plain.port}`, protocol: "http:", port: String(plain.port) },
        (...[error, s]) => (error ? reject(error) : resolve(s!)),
      )
    );
    assert.equal(socket.remotePort, plain.port);
    socket.destroy();
    const refused = await new Promise<Error | null>((resolve) =>
      connector({ hostname: "::1", protocol: "http:", port: "" }, (...[error]) => resolve(error))
    );
    assert.match(String(refused), /::1 port 80/, "an empty port is the protocol's default");
    assert.ok(await eventually(() => true));
  });
});

if (runtime === "bun") {
  console.log("note: under Bun, node:http ignores an Agent's createConnection (see docs/clients.md)");
}
