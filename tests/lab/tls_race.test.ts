/**
 * Racing to the TLS handshake in the lab: the name has one IPv6 and one IPv4 address, and the IPv6 path is a
 * path-MTU blackhole (the delay line drops the server's packets over 1280 bytes, and no Packet Too Big comes back).
 * TCP connects over IPv6 and the server's certificate flight never arrives. eyeballs' `connectTls` completes TLS
 * over IPv4, and so do the https agent and the Sockets API; the runtime's own TLS connect (`tls.connect`,
 * `Deno.connectTls`) commits to IPv6 and hangs. Run in the client namespace (tests/lab/tls_client.ts) under the
 * runtime running this file.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Lab, labUnavailable } from "./lab.ts";
import { fromSource, runtime } from "../helpers/cli_entry.ts";
import { testCa } from "../helpers/test_ca.ts";

const skip = labUnavailable();
if (skip) console.log(skip);

const here = dirname(fileURLToPath(import.meta.url));
const client = join(here, fromSource ? "tls_client.ts" : "tls_client.js");
const run = (file: string): [string, string[]] =>
  runtime === "deno" ? [process.execPath, ["run", "-A", "--quiet", file]] : [process.execPath, [file]];
const PORT = 8443;
const NAME = "eyeballs.test"; // a name the test CA's server certificate carries

describe("TLS over an IPv6 path-MTU blackhole", { skip: skip ?? false, timeout: 120_000 }, () => {
  let lab: Lab;
  let dir: string;
  let server: ChildProcess | undefined;
  let caFile: string;

  const connect = async (mode: "eyeballs" | "agent" | "socket" | "runtime", waitMs: number) => {
    const [cmd, args] = run(client);
    const r = await lab.exec(cmd, [...args, mode, NAME, String(PORT), caFile, String(waitMs)], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: boolean; address?: string; error?: string };
  };

  before(async () => {
    lab = await Lab.start({ delayMs: 10, count: 1, ports: [80] });
    dir = mkdtempSync(join(tmpdir(), "eyb-tls-"));
    const ca = await testCa();
    // The CA twice after the leaf: a first flight well over 1280 bytes, whatever the key type.
    writeFileSync(
      join(dir, "chain.pem"),
      [ca.serverCert, ca.caCert, ca.caCert].map((pem) => pem.trim()).join("\n") + "\n",
    );
    writeFileSync(join(dir, "key.pem"), ca.serverKey);
    writeFileSync(caFile = join(dir, "ca.pem"), ca.caCert);
    // Always Node's server (OpenSSL writes the whole first flight at once); Deno's writes smaller segments.
    const node = process.env.npm_node_execpath ?? "node";
    const args = [join(here, "tls_server.mjs"), join(dir, "chain.pem"), join(dir, "key.pem"), String(PORT)];
    server = spawn("ip", ["netns", "exec", lab.info.serverNs, node, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.on("data", (chunk) => String(chunk).includes("ready") && resolve());
      server!.once("exit", (code) => reject(new Error(`the TLS server exited (${code})`)));
    });
    await lab.setDns(NAME, { A: [lab.servers.v4[0]], AAAA: [lab.servers.v6[0]] });
  });
  after(async () => {
    server?.kill("SIGKILL");
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("without the fault, TLS completes over IPv6, by eyeballs and by the runtime", async () => {
    for (const mode of ["eyeballs", "runtime"] as const) {
      const out = await connect(mode, 10_000);
      assert.equal(out.ok, true, `${mode}: ${out.error}`);
      assert.equal(out.address, lab.servers.v6[0], mode);
    }
  });

  it("with the IPv6 path blackholed above 1280 bytes, eyeballs completes TLS over IPv4", async () => {
    await lab.setFault(lab.servers.v6[0], "mtu");
    await lab.resetSynCounts();
    const out = await connect("eyeballs", 10_000);
    assert.equal(out.ok, true, out.error);
    assert.equal(out.address, lab.servers.v4[0]);
    const syns = await lab.synCounts();
    assert.ok((syns[lab.servers.v6[0]] ?? 0) >= 1, "no SYN to the IPv6 address: the race never tried it");
  });

  it("with the blackhole, the https agent and the Sockets API (secureTransport on) complete TLS over IPv4", async () => {
    await lab.setFault(lab.servers.v6[0], "mtu");
    for (const mode of ["agent", "socket"] as const) {
      const out = await connect(mode, 10_000);
      assert.equal(out.ok, true, `${mode}: ${out.error}`);
      assert.equal(out.address, lab.servers.v4[0], mode);
    }
  });

  it("the runtime's own TLS connect commits to IPv6 and gets no handshake", async () => {
    await lab.setFault(lab.servers.v6[0], "mtu");
    const out = await connect("runtime", 3_000);
    assert.equal(out.ok, false, `the runtime completed TLS over ${out.address}`);
  });
});
