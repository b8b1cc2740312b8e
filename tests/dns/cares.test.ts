import { describe, it } from "node:test";
import assert from "node:assert/strict";
import dns from "node:dns";
import { type CaresModule, type CaresResolver, exchangeWith } from "../../src/dns/cares.ts";
import type { DnsAnswer } from "../../src/dns/message.ts";
import type { Family } from "../../src/base/types.ts";

type Callback = Parameters<CaresResolver["resolve4"]>[2];

/** A fake `node:dns` whose resolvers answer as `answer` says, recording what they were asked. */
function fakeCares(answer: (name: string, type: "A" | "AAAA", callback: Callback) => void) {
  const log: string[] = [];
  const made: { timeout: number; tries: number }[] = [];
  const module: CaresModule = {
    Resolver: class implements CaresResolver {
      constructor(options: { timeout: number; tries: number }) {
        made.push(options);
      }
      setServers(servers: string[]) {
        if (servers[0].includes("%")) throw new Error("scoped address");
        log.push(`servers ${servers.join(",")}`);
      }
      resolve4(name: string, _options: { ttl: true }, callback: Callback) {
        log.push(`A ${name}`);
        answer(name, "A", callback);
      }
      resolve6(name: string, _options: { ttl: true }, callback: Callback) {
        log.push(`AAAA ${name}`);
        answer(name, "AAAA", callback);
      }
      cancel() {
        log.push("cancel");
      }
    },
  };
  return { module, log, made };
}

const failWith = (code: string) => (_name: string, _type: string, callback: Callback) =>
  queueMicrotask(() => callback(Object.assign(new Error(code), { code }), []));

/** A fallback (eyeballs' own wire) that records its questions and answers one address. */
function fakeFallback() {
  const asked: string[] = [];
  const fallback = (server: string, name: string, family: Family): Promise<DnsAnswer> => {
    asked.push(`${server} ${name} ${family}`);
    return Promise.resolve({ rcode: 0, truncated: false, addresses: ["192.0.2.99"], ttl: 7 });
  };
  return { fallback, asked };
}

const open = () => new AbortController().signal;

describe("the c-ares wire (Node's default resolver)", () => {
  it("asks the one server for the absolute name, and answers canonical addresses with the smallest TTL", async () => {
    const { module, log, made } = fakeCares((_name, _type, callback) =>
      queueMicrotask(() =>
        callback(null, [
          { address: "2001:DB8:0::1", ttl: 300 },
          { address: "2001:db8::2", ttl: 60 },
          { address: "192.0.2.1", ttl: 1 }, // another family: not an answer to this question
        ])
      )
    );
    const answer = await exchangeWith(module, "2001:db8::53", "dual.example", 6, 5000, open());
    assert.deepEqual(answer, { rcode: 0, truncated: false, addresses: ["2001:db8::1", "2001:db8::2"], ttl: 60 });
    assert.deepEqual(log, ["servers 2001:db8::53", "AAAA dual.example."]);
    assert.deepEqual(made, [{ timeout: 5000, tries: 1 }]);
  });

  it("reads NODATA, NXDOMAIN, SERVFAIL and REFUSED as the response codes the stub acts on", async () => {
    const cases: [string, number][] = [["ENODATA", 0], ["ENOTFOUND", 3], ["ESERVFAIL", 2], ["EREFUSED", 5]];
    for (const [code, rcode] of cases) {
      const { module } = fakeCares(failWith(code));
      const answer = await exchangeWith(module, "192.0.2.53", "x.example.", 4, 5000, open());
      assert.deepEqual(answer, { rcode, truncated: false, addresses: [], ttl: 0 }, code);
    }
  });

  it("rejects with c-ares' error when the server does not answer or refuses the port: the stub moves on", async () => {
    for (const code of ["ETIMEOUT", "ECONNREFUSED"]) {
      const { module } = fakeCares(failWith(code));
      const { fallback, asked } = fakeFallback();
      await assert.rejects(exchangeWith(module, "192.0.2.53", "x.example", 4, 5000, open(), fallback), { code });
      assert.deepEqual(asked, [], code);
    }
  });

  it("asks with eyeballs' own wire what c-ares cannot read or cannot send", async () => {
    for (const code of ["EBADRESP", "EFORMERR", "ENOTIMP", "EBADNAME"]) {
      const { module } = fakeCares(failWith(code));
      const { fallback, asked } = fakeFallback();
      const answer = await exchangeWith(module, "192.0.2.53", "cut.example", 4, 5000, open(), fallback);
      assert.deepEqual(answer.addresses, ["192.0.2.99"], code);
      assert.deepEqual(asked, ["192.0.2.53 cut.example 4"], code);
    }
    const { module, log } = fakeCares(() => assert.fail("not asked"));
    const { fallback, asked } = fakeFallback();
    await exchangeWith(module, "fe80::1%eth0", "x.example", 6, 5000, open(), fallback);
    assert.deepEqual(asked, ["fe80::1%eth0 x.example 6"]);
    assert.deepEqual(log, []);
  });

  it("cancels the query on abort, with the caller's reason, and not after an answer", async () => {
    const { module, log } = fakeCares(() => {}); // never answers
    const controller = new AbortController();
    const pending = exchangeWith(module, "192.0.2.53", "x.example", 4, 60_000, controller.signal);
    controller.abort(new Error("caller gave up"));
    await assert.rejects(pending, /caller gave up/);
    assert.deepEqual(log, ["servers 192.0.2.53", "A x.example.", "cancel"]);

    const answered = fakeCares(failWith("ENODATA"));
    await exchangeWith(answered.module, "192.0.2.53", "x.example", 4, 60_000, open());
    assert.equal(answered.log.includes("cancel"), false);
  });

  it("gives up after its own timeout with ETIMEOUT, cancelling the query", async () => {
    const { module, log } = fakeCares(() => {}); // never answers
    await assert.rejects(exchangeWith(module, "192.0.2.53", "x.example", 4, 1, open()), { code: "ETIMEOUT" });
    assert.equal(log.at(-1), "cancel");
  });

  it("fits the real node:dns Resolver's shape", () => {
    const resolver: CaresResolver = new (dns as unknown as CaresModule).Resolver({ timeout: 1000, tries: 1 });
    for (const method of ["setServers", "resolve4", "resolve6", "cancel"] as const) {
      assert.equal(typeof resolver[method], "function", method);
    }
  });
});
