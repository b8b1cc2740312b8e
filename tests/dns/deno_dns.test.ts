import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { denoAddresses } from "../../src/dns/deno_dns.ts";

const notDeno = !("Deno" in globalThis) && "Deno.resolveDns is Deno's";

type Query = (descriptor: Record<string, string>) => { state: string };
interface DenoLike {
  resolveDns(name: string, type: string, options: { signal: AbortSignal }): Promise<string[]>;
  permissions: { querySync: Query };
  env: { get(name: string): string | undefined; set(name: string, value: string): void; delete(name: string): void };
}

describe("denoAddresses", { skip: notDeno }, () => {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  let ownResolve: DenoLike["resolveDns"];
  let ownQuery: Query;
  let asked: string[];
  let answer: (name: string, type: string) => Promise<string[]>;
  const signal = new AbortController().signal;

  beforeEach(() => {
    [ownResolve, ownQuery] = [deno.resolveDns, deno.permissions.querySync];
    asked = [];
    answer = () => Promise.resolve([]);
    deno.resolveDns = (name, type, options) => {
      asked.push(`${name} ${type}`);
      if (options.signal.aborted) return Promise.reject(options.signal.reason);
      return answer(name, type);
    };
    deno.permissions.querySync = () => ({ state: "granted" });
  });
  afterEach(() => {
    deno.resolveDns = ownResolve;
    deno.permissions.querySync = ownQuery;
  });

  it("gives the addresses Deno.resolveDns gives, canonical, of the family asked", async () => {
    answer = (_n, type) => Promise.resolve(type === "AAAA" ? ["2001:DB8:0::1", "192.0.2.9"] : ["192.0.2.1"]);
    assert.deepEqual(await denoAddresses("db.example.", 6, signal), ["2001:db8::1"]);
    assert.deepEqual(await denoAddresses("db.example.", 4, signal), ["192.0.2.1"]);
    assert.deepEqual(asked, ["db.example. AAAA", "db.example. A"]);
  });

  it("cannot say (undefined) when there is no address or Deno's client fails: getaddrinfo is asked then", async () => {
    assert.equal(await denoAddresses("nodata.example.", 6, signal), undefined);
    answer = () => Promise.reject(Object.assign(new Error("no record found"), { name: "NotFound" }));
    assert.equal(await denoAddresses("nx.example.", 4, signal), undefined);
    answer = () => Promise.reject(Object.assign(new Error("request timed out"), { name: "TimedOut" }));
    assert.equal(await denoAddresses("slow.example.", 4, signal), undefined);
    assert.equal(asked.length, 3);
  });

  it("does not ask (no prompt) unless net, the three files and glibc's environment are granted", async () => {
    answer = () => Promise.resolve(["192.0.2.1"]);
    for (
      const missing of ["net", "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "RES_OPTIONS", "LOCALDOMAIN"]
    ) {
      deno.permissions.querySync = (d) => ({
        state: [d.name, d.path, d.variable].includes(missing) ? "prompt" : "granted",
      });
      assert.equal(await denoAddresses("db.example.", 4, signal), undefined, missing);
    }
    deno.permissions.querySync = () => {
      throw new Error("no permissions API");
    };
    assert.equal(await denoAddresses("db.example.", 4, signal), undefined);
    assert.deepEqual(asked, []);
  });

  it("does not ask while RES_OPTIONS or LOCALDOMAIN is set: glibc reads them, Deno's client does not", async () => {
    answer = () => Promise.resolve(["192.0.2.1"]);
    for (const variable of ["RES_OPTIONS", "LOCALDOMAIN"]) {
      const before = deno.env.get(variable);
      deno.env.set(variable, variable === "RES_OPTIONS" ? "ndots:5" : "corp.example");
      try {
        assert.equal(await denoAddresses("db.example.", 4, signal), undefined, variable);
      } finally {
        if (before === undefined) deno.env.delete(variable);
        else deno.env.set(variable, before);
      }
    }
    assert.deepEqual(asked, []);
    if (!deno.env.get("RES_OPTIONS") && !deno.env.get("LOCALDOMAIN")) {
      assert.deepEqual(await denoAddresses("db.example.", 4, signal), ["192.0.2.1"]);
    }
  });

  it("rejects with the signal's reason on abort", async () => {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    answer = () => new Promise(() => {});
    deno.resolveDns = (_n, _t, options) =>
      new Promise((_, reject) => options.signal.addEventListener("abort", () => reject(options.signal.reason)));
    const pending = denoAddresses("slow.example.", 4, controller.signal);
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
  });
});
