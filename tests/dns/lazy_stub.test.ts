/**
 * The Deno adapter's stub resolver, whose code loads at the first lookup:
 * it answers as the shared stub resolver does, and checks its options at
 * once. Only /etc/hosts-style files and `localhost`: no DNS traffic.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStubResolver, stubResolver } from "../../src/dns/lazy_stub.ts";
import { createStubResolver as createEagerStubResolver } from "../../src/dns/stub.ts";

const signal = () => new AbortController().signal;
let dir: string;
let files: { hostsFile: string; resolvConf: string };

before(() => {
  dir = mkdtempSync(join(tmpdir(), "eyeballs-lazy-stub-"));
  files = { hostsFile: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf") };
  writeFileSync(files.hostsFile, "192.0.2.7 db.test\n2001:db8::7 db.test\n");
  writeFileSync(files.resolvConf, "nameserver 192.0.2.53\n"); // never asked: every name here is in the hosts file
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("the stub resolver loaded at its first lookup", () => {
  it("answers from the files it is given, as the shared stub resolver does", async () => {
    const lazy = createStubResolver(files);
    const eager = createEagerStubResolver(files);
    assert.deepEqual(await lazy.resolveWithTtl("db.test", 4, signal()), { addresses: ["192.0.2.7"], ttl: 0 });
    assert.deepEqual(await lazy.resolve("db.test", 6, signal()), ["2001:db8::7"]);
    assert.deepEqual(await lazy.resolve("db.test", 6, signal()), await eager.resolve("db.test", 6, signal()));
  });

  it("checks its options at once, naming them", () => {
    assert.throws(() => createStubResolver("/etc/resolv.conf" as never), { name: "TypeError", message: /options/ });
  });

  it("honours an aborted signal", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(createStubResolver(files).resolve("db.test", 4, controller.signal), { message: "stop" });
  });

  it("stubResolver answers localhost itself", async () => {
    assert.deepEqual(await stubResolver.resolveWithTtl("localhost", 6, signal()), { addresses: ["::1"], ttl: 0 });
    assert.deepEqual(await stubResolver.resolve("localhost", 4, signal()), ["127.0.0.1"]);
  });
});
