/**
 * TLS options side by side (issue 15, item 17): each `tls.connect` option a caller sets must reach `tls.connect`
 * through eyeballs as it does through the original. One table, run through `https.Agent` and `EyeballsHttpsAgent`
 * (a request), and through `tls.connect` and `connectTls`; each row's outcome (handshake or not) must agree, and
 * agree with what the row says the option does. The server speaks TLS 1.3 only, on one curve (P-256), with an
 * ECDSA P-256 certificate, so an option that narrows what the client offers has a visible effect.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import { constants } from "node:crypto";
import { EyeballsHttpsAgent } from "../../src/clients/agent.ts";
import { connectTls } from "../../src/adapters/node/mod.ts";
import { testCa } from "../helpers/test_ca.ts";

let server: https.Server;
let port: number;
let ca: string;

before(async () => {
  const made = await testCa();
  ca = made.caCert;
  server = https.createServer(
    { key: made.serverKey, cert: made.serverCert, minVersion: "TLSv1.3", ecdhCurve: "prime256v1" },
    (_req, res) => res.end("ok"),
  );
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** An option, a value, and whether the handshake must then succeed against this server. */
const ROWS: Array<[string, unknown, boolean]> = [
  ["sigalgs", "ECDSA+SHA512", false], // the server can sign only with SHA-256 (P-256)
  ["sigalgs", "ECDSA+SHA256", true],
  ["ecdhCurve", "secp384r1", false], // the server takes only P-256
  ["ecdhCurve", "prime256v1", true],
  ["maxVersion", "TLSv1.2", false], // the server speaks TLS 1.3 only
  ["secureOptions", constants.SSL_OP_NO_TLSv1_3, false],
  ["minVersion", "TLSv1.3", true],
  ["rejectUnauthorized", true, true],
  ["servername", "eyeballs.test", true],
  ["checkServerIdentity", () => new Error("refused by the caller's check"), false],
  ["ALPNProtocols", ["http/1.1"], true],
];

const label = (value: unknown) => typeof value === "function" ? "a function" : JSON.stringify(value);

function request(agent: https.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host: "localhost", port, path: "/", agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(true));
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

function direct(options: tls.ConnectionOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "localhost", port, ...options });
    socket.once("secureConnect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("TLS options reach tls.connect as through the originals", () => {
  for (const [option, value, succeeds] of ROWS) {
    it(`${option}: ${label(value)} → ${succeeds ? "handshake" : "no handshake"}`, async () => {
      const options = { ca: [ca], [option]: value };
      const original = await request(new https.Agent({ ...options, keepAlive: false }));
      const eyeballs = await request(new EyeballsHttpsAgent({ ...options, keepAlive: false }));
      const tlsConnect = await direct(options);
      const raced = await connectTls({ host: "localhost", port, history: false, ...options } as never).then(
        (socket) => (socket.destroy(), true),
        () => false,
      );
      // Through eyeballs as through the original, on every runtime.
      assert.deepEqual(
        { "https.Agent": original, EyeballsHttpsAgent: eyeballs, "tls.connect": tlsConnect, connectTls: raced },
        { "https.Agent": original, EyeballsHttpsAgent: original, "tls.connect": original, connectTls: original },
      );
      // And the option did what it does: Deno's node:tls (rustls) ignores sigalgs, ecdhCurve and secureOptions.
      const ignoredByDeno = ["sigalgs", "ecdhCurve", "secureOptions"].includes(option);
      assert.equal(original, "Deno" in globalThis && ignoredByDeno ? true : succeeds);
    });
  }
});
