/**
 * `eyeballs --tls`, run as a child process under the runtime running the test
 * (as tests/cli/cli.test.ts does), against a loopback TLS server whose
 * certificate the test CA signed: the handshake reported in --json and in
 * the timeline, a CA that does not sign it named as a certificate error for
 * the address, and each bad TLS argument named. Loopback only.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { formatTls } from "../../src/cli/format.ts";
import { renderLive } from "../../src/cli/live.ts";
import { readCaFile } from "../../src/cli/settings.ts";
import { distinguishedName } from "../../src/cli/tls.ts";
import { cli } from "../helpers/cli_entry.ts";
import { type TestCa, testCa } from "../helpers/test_ca.ts";
import { listen, type Started } from "../clients/helpers.ts";
import tls from "node:tls";

/** A child that has not exited by then is hung: fail rather than stall the suite. */

let ca: TestCa;
let server: Started<tls.Server>;
/** The server names the server was sent, in order. */
const sni: string[] = [];
let dir: string;
let caFile: string;
let strangerFile: string;

before(async () => {
  ca = await testCa();
  const context = tls.createSecureContext({ key: ca.serverKey, cert: ca.serverCert });
  server = await listen(
    tls.createServer({
      key: ca.serverKey,
      cert: ca.serverCert,
      ALPNProtocols: ["h2", "http/1.1"],
      SNICallback: (name, done) => {
        sni.push(name);
        done(null, context);
      },
    }, (socket) => socket.end()),
    "secureConnection",
  );
  dir = mkdtempSync(join(tmpdir(), "eyeballs-tls-cli-"));
  caFile = join(dir, "ca.pem");
  strangerFile = join(dir, "stranger.pem");
  writeFileSync(caFile, ca.caCert);
  writeFileSync(strangerFile, ca.strangerCert);
  writeFileSync(join(dir, "not-pem.txt"), "hello\n");
  writeFileSync(join(dir, "bad-body.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("eyeballs --tls", () => {
  it("--tls --ca --alpn: the handshake's ALPN, the certificate's subject and issuer in --json, exit 0", async () => {
    const run = await cli("--json", "--tls", "--ca", caFile, "--alpn", "h2,http/1.1", "127.0.0.1", String(server.port));
    assert.equal(run.code, 0, run.stderr);
    const line = JSON.parse(run.stdout.trim());
    assert.equal(line.address, "127.0.0.1");
    assert.equal(line.family, 4);
    assert.equal(line.tls.alpn, "h2");
    assert.equal(line.tls.subject, "CN=localhost");
    assert.equal(line.tls.issuer, "CN=eyeballs test CA");
    assert.equal(typeof line.tls.handshakeMs, "number");
    assert.ok(line.tls.handshakeMs >= 0);
    assert.deepEqual(line.attempts.map((a: { outcome: string }) => a.outcome), ["won"]);
  });

  it("the timeline names the handshake; --servername is the SNI and the name the certificate is checked against", async () => {
    const run = await cli("--tls", "--ca", caFile, "--servername", "eyeballs.test", "127.0.0.1", String(server.port));
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.ok(
      lines.some((l) =>
        /^TLS handshake in \d+\.\d ms: ALPN none, certificate CN=localhost \(issuer CN=eyeballs test CA\)$/.test(l)
      ),
      run.stdout,
    );
    assert.match(
      lines.at(-1)!,
      new RegExp(`^connected to 127\\.0\\.0\\.1 port ${server.port} in \\d+\\.\\d ms, TLS included$`),
    );
    assert.equal(sni.at(-1), "eyeballs.test"); // told on the ClientHello: the CLI hangs up right after the handshake
  });

  it("a CA that did not sign the server's certificate: a certificate error naming the address, exit 1", async () => {
    const run = await cli("--json", "--tls", "--ca", strangerFile, "127.0.0.1", String(server.port));
    assert.equal(run.code, 1, run.stderr);
    const line = JSON.parse(run.stdout.trim());
    assert.match(line.error, new RegExp(`^TLS with 127\\.0\\.0\\.1 port ${server.port} failed: .*certificate`));
    assert.equal(typeof line.code, "string");
    assert.equal(line.tls, undefined);
    assert.equal(line.attempts.length, 1);
    assert.equal(line.attempts[0].outcome, "failed");
    assert.match(line.attempts[0].error, /^TLS: .*certificate/);
    const text = await cli("--tls", "--ca", strangerFile, "127.0.0.1", String(server.port));
    assert.equal(text.code, 1);
    assert.match(
      text.stderr,
      new RegExp(`eyeballs: TLS with 127\\.0\\.0\\.1 port ${server.port} failed: .*certificate`),
    );
  });

  it("--servername the certificate does not name: the check fails, naming the address", async () => {
    const run = await cli(
      "--json",
      "--tls",
      "--ca",
      caFile,
      "--servername",
      "other.test",
      "127.0.0.1",
      String(server.port),
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      JSON.parse(run.stdout.trim()).error,
      new RegExp(`^TLS with 127\\.0\\.0\\.1 port ${server.port} failed`),
    );
  });

  it("--ca: a missing file and a file without a PEM certificate are usage errors naming --ca, exit 2", async () => {
    const missing = join(dir, "missing.pem");
    const cases: [string, RegExp][] = [
      [missing, /^eyeballs: --ca .*missing\.pem: no such file$/m],
      [join(dir, "not-pem.txt"), /^eyeballs: --ca .*not-pem\.txt: not a PEM file of certificates/m],
    ];
    for (const [file, message] of cases) {
      const run = await cli("--tls", "--ca", file, "127.0.0.1", String(server.port));
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, "");
    }
  });
});

describe("--tls arguments", () => {
  it("parse into the options", () => {
    const command = parseArgs([
      "--tls",
      "--ca=x.pem",
      "--alpn",
      "h2,http/1.1",
      "--servername",
      "eyeballs.test",
      "h",
      "443",
    ]);
    assert.equal(command.kind, "connect");
    if (command.kind !== "connect") return;
    assert.equal(command.options.tls, true);
    assert.equal(command.options.caFile, "x.pem");
    assert.deepEqual(command.options.alpn, ["h2", "http/1.1"]);
    assert.equal(command.options.servername, "eyeballs.test");
    const plain = parseArgs(["h", "443"]);
    assert.ok(plain.kind === "connect" && !("tls" in plain.options) && !("alpn" in plain.options));
  });

  it("each bad one is a usage error naming it", () => {
    const cases: [string[], RegExp][] = [
      [["--ca", "x.pem", "h", "1"], /^--ca needs --tls$/],
      [["--alpn", "h2", "h", "1"], /^--alpn needs --tls$/],
      [["--servername", "a.test", "h", "1"], /^--servername needs --tls$/],
      [["--tls", "--alpn", "h2,,http/1.1", "h", "1"], /^--alpn .*entry 2 is empty$/],
      [["--tls", "--alpn=", "h", "1"], /^--alpn .*entry 1 is empty$/],
      [["--tls", "--alpn", "h2,h2", "h", "1"], /^--alpn: protocol "h2" is listed twice$/],
      [["--tls", "--alpn", "x".repeat(256), "h", "1"], /^--alpn: protocol .* is longer than 255 bytes$/],
      [["--tls", "--servername", "127.0.0.1", "h", "1"], /^--servername must be a DNS name, not an IP address/],
      [["--tls", "--servername", "[::1]", "h", "1"], /^--servername must be a DNS name, not an IP address/],
      [["--tls", "--servername", "bad name", "h", "1"], /^--servername must be a DNS name such as example\.com/],
      [["--tls", "--servername=", "h", "1"], /^--servername needs a NAME$/],
      [["--tls", "--ca=", "h", "1"], /^--ca needs a FILE name/],
      [["--tls", "--ca", "h", "1"], /^unexpected argument "1"$|^missing PORT/],
      [["--tls=yes", "h", "1"], /^--tls takes no value/],
    ];
    for (const [args, message] of cases) {
      assert.throws(() => parseArgs(args), (error: unknown) => {
        assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
        assert.match(error.message, message, args.join(" "));
        return true;
      });
    }
  });

  it("--ca: a PEM block that is no certificate is named, with its place in the file", async () => {
    await assert.rejects(
      readCaFile(join(dir, "bad-body.pem")),
      /^UsageError: --ca .*bad-body\.pem: certificate 1 of 1 is not a valid X\.509 certificate$/,
    );
    assert.deepEqual(await readCaFile(caFile), [ca.caCert.trim() + "\n"]);
  });

  it("live, an attempt is pending until its handshake is done", () => {
    const attempt = {
      index: 0,
      address: "127.0.0.1",
      family: 4 as const,
      port: 443,
      startMs: 1,
      outcome: "pending" as const,
    };
    assert.deepEqual(renderLive([{ type: "attempt-start", atMs: 1, attempt }], 41, { tls: true }), [
      "  resolving… (41 ms)",
      "  #1 127.0.0.1  pending (TCP, then TLS)  40 ms",
    ]);
  });

  it("the TLS line and certificate names read as text", () => {
    assert.equal(
      distinguishedName({ CN: "example.com", O: "Example", OU: ["a", "b"] }),
      "CN=example.com, O=Example, OU=a+b",
    );
    assert.equal(distinguishedName({}), null);
    assert.equal(distinguishedName(undefined), null);
    assert.equal(
      formatTls({ handshakeMs: 3.14, alpn: "h2", subject: "CN=a", issuer: "CN=b" }),
      "TLS handshake in 3.1 ms: ALPN h2, certificate CN=a (issuer CN=b)",
    );
    assert.equal(
      formatTls({ handshakeMs: null, alpn: null, subject: null, issuer: null }),
      "TLS handshake: ALPN none, certificate subject unknown",
    );
  });
});
