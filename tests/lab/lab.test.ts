/**
 * Self-test of the network lab: proves each capability with plain OS clients
 * (tests/lab/probe.py in the client namespace), without the eyeballs library.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { Lab, labFile, labUnavailable, leftovers, namespacesOf, python, waitGone } from "./lab.ts";

const DELAY = 100; // one-way, ms: RTT 200 ms
const skip = labUnavailable();
if (skip) console.log(skip);

type Probe = {
  ok: boolean;
  ms: number;
  error?: string;
  addrs?: string[];
  connectMs?: number;
  echoMs?: number[];
  banner?: string;
};

describe("lab", { skip: skip ?? false }, () => {
  let lab: Lab;
  let v4: string[];
  let v6: string[];
  const probe = async (...args: string[]) => (await lab.probe(...args)) as Probe;

  before(async () => {
    lab = await Lab.start({ delayMs: DELAY });
    ({ v4, v6 } = lab.servers);
  });
  after(async () => {
    const pid = lab?.info.pid;
    await lab?.stop();
    if (pid) {
      assert.deepEqual(
        await waitGone(pid),
        [],
        "teardown left something behind",
      );
    }
  });

  it("has only lab routes in the client namespace (no default route)", async () => {
    for (const fam of ["-4", "-6"]) {
      const r = await lab.exec("ip", [fam, "route"]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /default/);
    }
  });

  it("delays the link: RTT = 2 x delayMs, both families", async () => {
    for (const addr of [v4[0], v6[0]]) {
      const r = await probe("rtt", addr, "80", "--count", "3");
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.banner, `eyb-lab ${addr} 80`);
      console.log(
        `lab: ${addr} connect ${r.connectMs} ms, echo ${r.echoMs!.join(" / ")} ms (delayMs=${DELAY})`,
      );
      for (const ms of [r.connectMs!, ...r.echoMs!]) {
        // The delay line holds each packet for DELAY each way: never less (how much more is the machine's load).
        assert.ok(ms >= 2 * DELAY, `RTT ${ms} < ${2 * DELAY}`);
      }
    }
    await lab.setDelay(20);
    const r = await probe("rtt", v4[1], "443", "--count", "1");
    console.log(
      `lab: after setDelay(20): connect ${r.connectMs} ms, echo ${r.echoMs} ms`,
    );
    assert.ok(r.connectMs! >= 40 && r.connectMs! < 40 + 150, JSON.stringify(r));
    await lab.setDelay(DELAY);
  });

  describe("DNS", () => {
    it("answers the predefined names with all server addresses", async () => {
      const r = await probe("resolve", "dual.lab.test");
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(new Set(r.addrs), new Set([...v4, ...v6]));
      const r4 = await probe("resolve", "v4.lab.test");
      assert.deepEqual(new Set(r4.addrs), new Set(v4));
    });

    it("answers a configured list, and answers late by N ms", async () => {
      await lab.setDns("late.lab.test", {
        A: { addrs: [v4[2]], delayMs: 400 },
        AAAA: [v6[3], v6[4]],
      });
      await lab.dnsQueries({ reset: true });
      const r = await probe("resolve", "late.lab.test");
      console.log(`lab: A late by 400 ms -> getaddrinfo took ${r.ms} ms`);
      assert.deepEqual(new Set(r.addrs), new Set([v4[2], v6[3], v6[4]]));
      assert.ok(r.ms >= 400 + 2 * DELAY, `${r.ms}`); // the late answer was waited for, not skipped
      const types = (await lab.dnsQueries()).filter(([n]) => n === "late.lab.test").map(([, t]) => t);
      assert.deepEqual(new Set(types), new Set(["A", "AAAA"]));
    });

    it("answers NXDOMAIN, SERVFAIL, and unknown names NXDOMAIN", async () => {
      await lab.setDns("nx.lab.test", {
        A: { fail: "nxdomain" },
        AAAA: { fail: "nxdomain" },
      });
      await lab.setDns("sf.lab.test", {
        A: { fail: "servfail" },
        AAAA: { fail: "servfail" },
      });
      assert.equal((await probe("resolve", "nx.lab.test")).error, "EAI_NONAME");
      assert.equal((await probe("resolve", "sf.lab.test")).error, "EAI_AGAIN");
      assert.equal(
        (await probe("resolve", "nothing.lab.test")).error,
        "EAI_NONAME",
      );
    });

    it("stays silent, and resolv.conf makes the client give up within seconds", async () => {
      await lab.setDns("quiet.lab.test", {
        A: { fail: "silent" },
        AAAA: { fail: "silent" },
      });
      await lab.dnsQueries({ reset: true });
      const r = await probe("resolve", "quiet.lab.test");
      console.log(`lab: silent DNS -> ${r.error} after ${r.ms} ms`);
      assert.equal(r.error, "EAI_AGAIN");
      assert.ok(r.ms >= 900, `${r.ms}`); // getaddrinfo waited for its own timeout, then gave up
      assert.ok(
        (await lab.dnsQueries()).length >= 2,
        "the server did receive the queries",
      );
    });
  });

  describe("faults", () => {
    it("blackhole: SYNs vanish, connect times out", async () => {
      await lab.setFault(v4[3], "blackhole");
      const r = await probe("connect", v4[3], "80", "--timeout", "1.2");
      assert.equal(r.error, "ETIMEDOUT", JSON.stringify(r));
      assert.ok(r.ms >= 1200, `${r.ms}`);
    });

    it("refused: RST after one RTT, ECONNREFUSED", async () => {
      for (const addr of [v4[4], v6[4]]) {
        await lab.setFault(addr, "refused");
        const r = await probe("connect", addr, "80");
        assert.equal(r.error, "ECONNREFUSED", JSON.stringify(r));
        assert.ok(r.ms >= 2 * DELAY, `${r.ms}`);
      }
    });

    it("unreachable: ICMP errors map to the expected errno, v4 and v6", async () => {
      const expected: Record<string, [string, string]> = {
        host: ["EHOSTUNREACH", "EHOSTUNREACH"],
        net: ["ENETUNREACH", "ENETUNREACH"],
        admin: ["EHOSTUNREACH", "EACCES"],
        port: ["ECONNREFUSED", "ECONNREFUSED"],
      };
      for (const [code, [e4, e6]] of Object.entries(expected)) {
        await lab.setFault(v4[5], "unreachable", { code: code as "host" });
        await lab.setFault(v6[5], "unreachable", { code: code as "host" });
        const [r4, r6] = await Promise.all([
          probe("connect", v4[5], "80"),
          probe("connect", v6[5], "80"),
        ]);
        assert.equal(r4.error, e4, `v4 ${code}: ${JSON.stringify(r4)}`);
        assert.equal(r6.error, e6, `v6 ${code}: ${JSON.stringify(r6)}`);
        assert.ok(r4.ms >= 2 * DELAY && r6.ms >= 2 * DELAY);
      }
    });

    it("slow accept: the handshake completes N ms late", async () => {
      await lab.setFault(v6[6], "slow", { ms: 500 });
      const r = await probe("connect", v6[6], "80");
      console.log(`lab: slow 500 ms -> connect took ${r.ms} ms`);
      assert.ok(r.ok, JSON.stringify(r));
      assert.ok(
        r.ms >= 500 + 2 * DELAY && r.ms < 500 + 2 * DELAY + 300,
        `${r.ms}`,
      );
    });

    it("none: a cleared fault serves again", async () => {
      await lab.clearFaults();
      const r = await probe("connect", v4[3], "80");
      assert.ok(r.ok, JSON.stringify(r));
    });
  });

  it("counts SYNs per destination exactly, and resets", async () => {
    await lab.setFault(v4[7], "refused");
    await lab.resetSynCounts();
    await Promise.all([
      probe("connect", v4[0], "80"),
      probe("connect", v4[0], "443"),
      probe("connect", v4[0], "80"),
      probe("connect", v6[1], "80"),
      probe("connect", v6[1], "80"),
      probe("connect", v4[7], "80"),
    ]);
    assert.deepEqual(await lab.synCounts({ reset: true }), {
      [v4[0]]: 3,
      [v6[1]]: 2,
      [v4[7]]: 1,
    });
    assert.deepEqual(await lab.synCounts(), {});
  });

  it("exec returns stdout, stderr and the exit code", async () => {
    const r = await lab.exec("sh", ["-c", "echo out; echo err >&2; exit 3"]);
    assert.deepEqual([r.code, r.stdout, r.stderr, r.timedOut], [
      3,
      "out\n",
      "err\n",
      false,
    ]);
    // A timeout kills the whole command, children included.
    const t = await lab.exec("sh", ["-c", "sleep 30; echo late"], {
      timeoutMs: 300,
    });
    assert.deepEqual([t.timedOut, t.signal, t.stdout], [true, "SIGKILL", ""]);
  });
});

describe("lab teardown", { skip: skip ?? false }, () => {
  /** A daemon spawned directly, as if by a test process that then dies. */
  async function rawDaemon() {
    const child = spawn(python(), ["-B", labFile("lab.py"), "serve"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const line = await new Promise<string>((res) => {
      let buf = "";
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (c: string) => {
        buf += c;
        if (buf.includes("\n")) res(buf);
      });
    });
    const info = JSON.parse(line).ready;
    assert.ok(info, line);
    assert.equal(namespacesOf(info.pid).length, 2);
    return { child, pid: info.pid as number };
  }

  it("stop() removes namespaces, /etc/netns folder and daemon", async () => {
    const lab = await Lab.start();
    const pid = lab.info.pid;
    assert.equal(namespacesOf(pid).length, 2);
    assert.ok(existsSync(`/etc/netns/${lab.clientNs}`));
    await lab.stop();
    assert.deepEqual(await waitGone(pid), []);
  });

  it("the owner's death (stdin EOF) and SIGTERM both tear down", async () => {
    const a = await rawDaemon();
    a.child.stdin!.end();
    const b = await rawDaemon();
    b.child.kill("SIGTERM");
    assert.deepEqual(await waitGone(a.pid), []);
    assert.deepEqual(await waitGone(b.pid), []);
  });

  it("a SIGKILLed lab is removed by the next one as stale", async () => {
    const dead = await rawDaemon();
    dead.child.kill("SIGKILL");
    await new Promise((r) => dead.child.once("close", r));
    // SIGKILL leaves the namespaces behind; the next lab started removes
    // them (ours below, or one of a concurrent test run: same mechanism).
    const left = namespacesOf(dead.pid);
    const lab = await Lab.start();
    try {
      const removed = lab.info.staleRemoved.filter((n) => n.endsWith(`-${dead.pid}`));
      if (left.length === 2 && removed.length === 2) {
        assert.deepEqual(removed.sort(), left.sort());
      }
      assert.deepEqual(leftovers(dead.pid), []);
    } finally {
      await lab.stop();
    }
  });

  it("leaves no eyb-* namespace of this test run and no empty /etc/netns", () => {
    const ours = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout
      .split("\n")
      .filter((l) => l.startsWith("eyb-"))
      .map((l) => l.split(" ")[0])
      .filter((n) => {
        const pid = Number(n.split("-")[2]);
        return !existsSync(`/proc/${pid}`); // others' live labs are not ours to judge
      });
    assert.deepEqual(ours, []);
    if (existsSync("/etc/netns")) {
      assert.notDeepEqual(readdirSync("/etc/netns"), []);
    }
  });
});
