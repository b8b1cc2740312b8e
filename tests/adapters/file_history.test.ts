import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { FileHistory } from "../../src/adapters/shared/file_history.ts";
import type { AddressOutcome } from "../../src/history/history.ts";

const V4 = "192.0.2.1";
const V6 = "2001:db8::1";
const WON: AddressOutcome[] = [{ address: V6, state: "lost" }, { address: V4, state: "connected", rttMs: 20 }];

/** A fresh folder per test, removed afterwards. */
function folder(): { dir: string; file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "eyeballs-history-"));
  return { dir, file: join(dir, "history.json"), done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("FileHistory", () => {
  it("round trip: what one instance records, another (another process) reads", () => {
    const { dir, file, done } = folder();
    try {
      let now = 1_000_000;
      new FileHistory(file, { now: () => now }).record("dual.test", 443, WON);
      now += 500;
      const known = new FileHistory(file, { now: () => now }).lookup("dual.test", 443);
      assert.deepEqual(known, {
        addresses: [
          { address: V6, state: "lost", ageMs: 500 },
          { address: V4, state: "connected", srttMs: 20, rttvarMs: 10, ageMs: 500 },
        ],
      });
      assert.equal(new FileHistory(file).lookup("dual.test", 80), undefined); // another port
      assert.deepEqual(readdirSync(dir), ["history.json"]); // no temporary file left
      if (process.platform !== "win32") assert.equal(statSync(file).mode & 0o777, 0o600);
    } finally {
      done();
    }
  });

  it("a missing, corrupt or foreign file is an empty history, and the next record replaces it", () => {
    const { file, done } = folder();
    try {
      assert.equal(new FileHistory(file).lookup("dual.test", 443), undefined); // missing
      for (
        const junk of ["{not json", "null", "[]", '{"eyeballsHistory":2,"hosts":{}}', '{"eyeballsHistory":1}', "\0\0"]
      ) {
        writeFileSync(file, junk);
        const history = new FileHistory(file);
        assert.equal(history.lookup("dual.test", 443), undefined, junk);
        history.record("dual.test", 443, WON);
        assert.equal(history.lookup("dual.test", 443)?.addresses.length, 2, junk);
      }
    } finally {
      done();
    }
  });

  it("drops an invalid entry and keeps the valid ones", () => {
    const { file, done } = folder();
    try {
      const now = Date.now();
      const good = {
        createdAt: now,
        usedAt: now,
        addresses: [{ address: V4, state: "connected", at: now, srttMs: 5, rttvarMs: 1 }],
      };
      writeFileSync(
        file,
        JSON.stringify({
          eyeballsHistory: 1,
          hosts: {
            "good.test:443": good,
            "bad-state.test:443": { ...good, addresses: [{ address: V4, state: "sleepy", at: now }] },
            "bad-time.test:443": { ...good, createdAt: "yesterday" },
            "bad-list.test:443": { ...good, addresses: {} },
            "bad-rtt.test:443": { ...good, addresses: [{ address: V4, state: "connected", at: now, srttMs: -1 }] },
          },
        }),
      );
      const history = new FileHistory(file);
      assert.equal(history.lookup("good.test", 443)?.addresses[0].srttMs, 5);
      for (const host of ["bad-state.test", "bad-time.test", "bad-list.test"]) {
        assert.equal(history.lookup(host, 443), undefined);
      }
      assert.equal(history.lookup("bad-rtt.test", 443)?.addresses[0].srttMs, undefined); // the RTT is dropped, not the entry
    } finally {
      done();
    }
  });

  it("forgets entries past the TTL and entries from the future (a clock set back)", () => {
    const { file, done } = folder();
    try {
      let now = 10_000_000;
      const history = new FileHistory(file, { ttl: 60_000, now: () => now });
      history.record("dual.test", 443, WON);
      now += 59_999;
      assert.ok(history.lookup("dual.test", 443));
      now += 1;
      assert.equal(history.lookup("dual.test", 443), undefined);
      now -= 120_000; // before the entry was written
      assert.equal(history.lookup("dual.test", 443), undefined);
    } finally {
      done();
    }
  });

  it("keeps at most maxHosts hosts in the file, the most recently recorded", () => {
    const { file, done } = folder();
    try {
      let now = 1_000;
      const history = new FileHistory(file, { maxHosts: 3, now: () => now++ });
      for (const host of ["a", "b", "c", "d", "e"]) history.record(`${host}.test`, 80, WON);
      const stored = JSON.parse(readFileSync(file, "utf8"));
      assert.deepEqual(Object.keys(stored.networks[""].hosts).sort(), ["c.test:80", "d.test:80", "e.test:80"]);
    } finally {
      done();
    }
  });

  it("keeps networks apart: what one network taught is not read on another, and comes back with it", () => {
    const { file, done } = folder();
    try {
      const history = new FileHistory(file);
      history.record("dual.test", 443, WON, "home");
      assert.equal(new FileHistory(file).lookup("dual.test", 443, "cafe"), undefined);
      assert.equal(new FileHistory(file).lookup("dual.test", 443), undefined); // unknown network: its own partition
      history.record("dual.test", 443, [{ address: V6, state: "connected", rttMs: 7 }], "cafe");
      const home = new FileHistory(file).lookup("dual.test", 443, "home");
      assert.deepEqual(home?.addresses.map((a) => [a.address, a.state]), [[V6, "lost"], [V4, "connected"]]);
      const cafe = new FileHistory(file).lookup("dual.test", 443, "cafe");
      assert.deepEqual(cafe?.addresses.map((a) => [a.address, a.state]), [[V6, "connected"]]);
    } finally {
      done();
    }
  });

  it("summarises a network's RTTs for hosts never met, per network, from 3 hosts on", () => {
    const { file, done } = folder();
    try {
      let now = 1_000_000;
      const history = new FileHistory(file, { now: () => now, ttl: 60_000 });
      for (const [host, rttMs] of [["a.test", 18], ["b.test", 20]] as const) {
        history.record(host, 443, [{ address: V4, state: "connected", rttMs }], "home");
      }
      assert.equal(history.networkRtt("home"), undefined); // 2 hosts: too few
      history.record("c.test", 443, [{ address: V4, state: "connected", rttMs: 300 }], "home");
      assert.deepEqual(new FileHistory(file, { now: () => now }).networkRtt("home"), {
        srttMs: 20,
        rttvarMs: 10,
        hosts: 3,
      });
      assert.equal(history.networkRtt("office"), undefined);
      assert.equal(history.networkRtt(), undefined);
      now += 60_000; // past the TTL
      assert.equal(history.networkRtt("home"), undefined);
    } finally {
      done();
    }
  });

  it("keeps at most maxNetworks networks in the file, the most recently recorded", () => {
    const { file, done } = folder();
    try {
      let now = 1_000;
      const history = new FileHistory(file, { maxNetworks: 2, now: () => now++ });
      for (const network of ["n1", "n2", "n3"]) history.record("dual.test", 443, WON, network);
      const stored = JSON.parse(readFileSync(file, "utf8"));
      assert.deepEqual(Object.keys(stored.networks).sort(), ["n2", "n3"]);
      assert.equal(history.lookup("dual.test", 443, "n1"), undefined);
      assert.ok(history.lookup("dual.test", 443, "n3"));
      assert.throws(() => new FileHistory(file, { maxNetworks: 0 }), /FileHistory: maxNetworks/);
    } finally {
      done();
    }
  });

  it("two writers taking turns leave a valid file holding both hosts", () => {
    const { dir, file, done } = folder();
    try {
      const [one, two] = [new FileHistory(file), new FileHistory(file)];
      for (let i = 0; i < 50; i++) {
        one.record("one.test", 80, [{ address: V4, state: "connected", rttMs: i }]);
        two.record("two.test", 80, [{ address: V6, state: "failed" }]);
      }
      assert.ok(one.lookup("two.test", 80));
      assert.ok(two.lookup("one.test", 80));
      assert.deepEqual(readdirSync(dir), ["history.json"]);
    } finally {
      done();
    }
  });

  it("rejects bad arguments, naming the field; a write that cannot happen names the file", () => {
    assert.throws(() => new FileHistory(42 as unknown as string), /FileHistory: path must be a string, got 42/);
    assert.throws(() => new FileHistory(""), /FileHistory: path must be a file name/);
    assert.throws(() => new FileHistory("h.json", { ttl: -1 }), /FileHistory: ttl must be a finite number > 0/);
    assert.throws(() => new FileHistory("h.json", { maxHosts: 0 }), /FileHistory: maxHosts must be an integer ≥ 1/);
    assert.throws(
      () => new FileHistory("h.json", { now: 5 as unknown as () => number }),
      /FileHistory: now must be a function/,
    );
    const nowhere = join(tmpdir(), "eyeballs-no-such-folder", "h.json");
    assert.throws(() => new FileHistory(nowhere).record("dual.test", 443, WON), /FileHistory: cannot write .*h\.json/);
  });
});
