/**
 * `lookup` (src/clients/lookup.ts): `dns.lookup`'s contract answered by eyeballs, unit by unit with a fake resolver,
 * then side by side with `dns.lookup` on answers this host gives without a network (literals, `localhost`), and
 * under real clients (`net.connect`, `http.request`) on loopback.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import dns from "node:dns";
import http from "node:http";
import net from "node:net";
import { createLookup, installLookup, lookup, type LookupAddress } from "../../src/clients/lookup.ts";
import { denyAddresses, INTERNAL_CATEGORIES } from "../../src/addresses/policy.ts";
import type { Family, Resolver } from "../../src/base/types.ts";

/** A resolver from a table; a missing family is NXDOMAIN, "hang" never answers, "again" is a temporary failure. */
function tableResolver(table: Record<string, Partial<Record<Family, string[] | "hang" | "again">>>): Resolver {
  return {
    resolve(name, family, signal) {
      const entry = table[name]?.[family];
      if (entry === "hang") {
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      }
      if (entry === "again") return Promise.reject(Object.assign(new Error("EAI_AGAIN"), { code: "EAI_AGAIN" }));
      if (!entry) return Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }));
      return Promise.resolve(entry);
    },
  };
}

const globalHost = ["2001:db8::99", "192.0.2.99"]; // this host has both families: RFC 6724 puts IPv6 first
const resolver = tableResolver({
  "dual.test": { 6: ["2001:db8::1"], 4: ["192.0.2.1", "192.0.2.2"] },
  "v4.test": { 4: ["192.0.2.1"] },
  "late6.test": { 6: "hang", 4: ["192.0.2.1"] },
  "late4.test": { 6: ["2001:db8::1"], 4: "hang" },
  "flaky.test": { 6: "again", 4: "again" },
  "inward.test": { 6: ["fd00::1"], 4: ["10.0.0.1", "192.0.2.7"] },
  "internal.test": { 4: ["10.0.0.1", "127.0.0.1"] },
});
const ours = createLookup({ resolver, sourceAddresses: globalHost });

/** The callback form, as a promise of what it called back with. */
function call(fn: typeof lookup, host: string, options?: Parameters<typeof lookup.promise>[1]) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
    const cb = (error: NodeJS.ErrnoException | null, address: unknown, family?: number) =>
      resolve({ error, address, family });
    if (options === undefined) fn(host, cb as never);
    else fn(host, options, cb as never);
  });
}

describe("lookup: dns.lookup's contract", () => {
  it("one address: the first in RFC 6724 order, with its family", async () => {
    assert.deepEqual(await call(ours, "dual.test"), { error: null, address: "2001:db8::1", family: 6 });
  });

  it("all: every address of both families, in order; order and verbatim as dns.lookup takes them", async () => {
    const all = (await call(ours, "dual.test", { all: true })).address as LookupAddress[];
    assert.deepEqual(all.map((a) => a.address), ["2001:db8::1", "192.0.2.1", "192.0.2.2"]);
    const v4first = (await call(ours, "dual.test", { all: true, order: "ipv4first" })).address as LookupAddress[];
    assert.deepEqual(v4first.map((a) => a.family), [4, 4, 6]);
    const old = (await call(ours, "dual.test", { all: true, verbatim: false })).address as LookupAddress[];
    assert.deepEqual(old.map((a) => a.family), [4, 4, 6]);
  });

  it("family as a number, in the object, or as IPv4 / IPv6", async () => {
    assert.deepEqual(await call(ours, "dual.test", 4), { error: null, address: "192.0.2.1", family: 4 });
    assert.deepEqual(await call(ours, "dual.test", { family: "IPv6" }), {
      error: null,
      address: "2001:db8::1",
      family: 6,
    });
  });

  it("a late AAAA answer: the A answer after the Resolution Delay (one address)", async () => {
    assert.deepEqual(await call(ours, "late6.test"), { error: null, address: "192.0.2.1", family: 4 });
  });

  it("all: a family answering past the Resolution Delay is left out, whichever it is (the answer cannot grow later)", async () => {
    const v4 = (await call(ours, "late6.test", { all: true })).address as LookupAddress[];
    assert.deepEqual(v4, [{ address: "192.0.2.1", family: 4 }]);
    const v6 = (await call(ours, "late4.test", { all: true })).address as LookupAddress[];
    assert.deepEqual(v6, [{ address: "2001:db8::1", family: 6 }]);
  });

  it("a family answering within the Resolution Delay is in the answer, one address or all", async () => {
    const slow = (addresses: string[]) => new Promise<string[]>((resolve) => setTimeout(() => resolve(addresses), 20));
    const patient = createLookup({
      resolver: { resolve: (_name, family) => family === 4 ? slow(["192.0.2.1"]) : Promise.resolve(["2001:db8::1"]) },
      sourceAddresses: globalHost,
      resolutionDelay: 60_000, // never the reason an answer is complete
    });
    const all = (await call(patient, "dual.test", { all: true, order: "ipv4first" })).address as LookupAddress[];
    assert.deepEqual(all.map((a) => a.address), ["192.0.2.1", "2001:db8::1"]);
    assert.deepEqual(await call(patient, "dual.test", { order: "ipv4first" }), {
      error: null,
      address: "192.0.2.1",
      family: 4,
    });
  });

  it("no address: getaddrinfo's error, ENOTFOUND or EAI_AGAIN as the resolver said", async () => {
    const missing = await call(ours, "missing.test");
    assert.equal(missing.error?.code, "ENOTFOUND");
    assert.equal(missing.error?.syscall, "getaddrinfo");
    assert.equal((missing.error as { hostname?: string }).hostname, "missing.test");
    assert.equal(missing.error?.message, "getaddrinfo ENOTFOUND missing.test");
    assert.equal((await call(ours, "flaky.test")).error?.code, "EAI_AGAIN");
  });

  it("an IP literal is its own answer; an empty name answers nothing, as dns.lookup does", async () => {
    assert.deepEqual(await call(ours, "::1"), { error: null, address: "::1", family: 6 });
    assert.deepEqual(await call(ours, "192.0.2.5", { all: true }), {
      error: null,
      address: [{ address: "192.0.2.5", family: 4 }],
      family: undefined,
    });
    assert.deepEqual(await call(ours, ""), { error: null, address: null, family: 4 });
  });

  it("the address policy: a refused address is never returned; all refused is an error naming the policy", async () => {
    const guarded = createLookup({
      resolver,
      sourceAddresses: globalHost,
      addressPolicy: denyAddresses(INTERNAL_CATEGORIES),
    });
    const some = (await call(guarded, "inward.test", { all: true })).address as LookupAddress[];
    assert.deepEqual(some.map((a) => a.address), ["192.0.2.7"]);
    const none = await call(guarded, "internal.test");
    assert.equal(none.error?.code, "ENOTFOUND");
    assert.match(
      none.error!.message,
      /refused by the address policy: 10\.0\.0\.1 \(private\), 127\.0\.0\.1 \(loopback\)/,
    );
  });

  it("the promise form, as dns.promises.lookup", async () => {
    assert.deepEqual(await ours.promise("dual.test"), { address: "2001:db8::1", family: 6 });
    assert.deepEqual(await ours.promise("v4.test", { all: true }), [{ address: "192.0.2.1", family: 4 }]);
    await assert.rejects(ours.promise("missing.test"), { code: "ENOTFOUND" });
  });

  it("bad input throws a TypeError naming the field, as dns.lookup does", () => {
    assert.throws(() => ours("x.test", {}, undefined as never), { name: "TypeError", message: /callback/ });
    assert.throws(() => ours(42 as never, () => {}), { name: "TypeError", message: /hostname/ });
    assert.throws(() => ours("x.test", { family: 5 } as never, () => {}), { name: "TypeError", message: /family/ });
    assert.throws(() => ours("x.test", { all: "yes" } as never, () => {}), {
      name: "TypeError",
      message: /options\.all/,
    });
    assert.throws(() => ours("x.test", { order: "random" } as never, () => {}), {
      name: "TypeError",
      message: /order/,
    });
  });

  it("installLookup makes it an agent's default; anything else is refused, naming the field", () => {
    const agent = installLookup(new http.Agent());
    assert.equal((agent as unknown as { options: { lookup?: unknown } }).options.lookup, lookup);
    assert.throws(() => installLookup({} as never), { name: "TypeError", message: /agent/ });
  });
});

describe("lookup beside dns.lookup, on answers this host gives without a network", () => {
  const system = (host: string, options: dns.LookupOptions) =>
    new Promise<{ error?: string; addresses?: string[] }>((resolve) =>
      dns.lookup(
        host,
        { ...options, all: true },
        (error, addresses) =>
          resolve(error ? { error: error.code } : { addresses: addresses.map((a) => a.address).sort() }),
      )
    );
  const eyeballs = (host: string, options: dns.LookupOptions) =>
    lookup.promise(host, { ...options, all: true } as never).then(
      (addresses) => ({ addresses: (addresses as LookupAddress[]).map((a) => a.address).sort() }),
      (error: NodeJS.ErrnoException) => ({ error: error.code }),
    );
  // Literals only: a name would reach this host's DNS configuration (and /etc/hosts' localhost differs by design,
  // RFC 6761: docs/known-limits.md).
  const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
  for (const host of ["127.0.0.1", "::1", "192.0.2.1", "2001:db8::1", "[::1]", "127.1", "0x7f.1"]) {
    for (const family of [0, 4, 6]) {
      it(`${host}, family ${family}`, async () => {
        if (host.startsWith("[")) {
          // dns.lookup does not take brackets (a name lookup, ENOTFOUND); eyeballs takes them, as its connect does.
          assert.deepEqual(await eyeballs(host, { family }), { addresses: ["::1"] });
          return;
        }
        const [ours, theirs] = [await eyeballs(host, { family }), await system(host, { family })];
        if (family === 6 && ["127.1", "0x7f.1"].includes(host) && runtime !== "node") {
          // inet_aton's forms asked as IPv6: Node says EAI_ADDRFAMILY (eyeballs too); Deno 2.9 and Bun 1.4 differ.
          assert.deepEqual(ours, { error: "EAI_ADDRFAMILY" });
          assert.deepEqual(theirs, { error: runtime === "deno" ? "ENOTFOUND" : "EBADFAMILY" });
          return;
        }
        assert.deepEqual(ours, theirs);
      });
    }
  }
});

describe("lookup under real clients, on loopback", () => {
  const localhostOnly = createLookup({ resolver: tableResolver({ "app.test": { 6: ["::1"], 4: ["127.0.0.1"] } }) });

  it("net.connect({ lookup }) and http.request({ lookup }) reach a server on 127.0.0.1 through a name", async () => {
    const server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const socket = net.connect({ host: "app.test", port, lookup: localhostOnly as never, family: 4 });
      await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      assert.equal(socket.remoteAddress, "127.0.0.1");
      socket.destroy();
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: "app.test", port, path: "/", lookup: localhostOnly as never, family: 4 }, (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk)).on("end", () => resolve(text));
        }).on("error", reject);
      });
      assert.equal(body, "ok");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
