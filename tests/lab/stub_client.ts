/**
 * Run by tests/lab/stub_resolver.test.ts inside the lab's client namespace,
 * under the runtime of the test: drives the stub resolver (and the DNS cache
 * on a fake clock) against the lab's DNS server and prints one JSON object.
 *
 *   stub_client.ts HOSTS_FILE PORT [own|cares]
 *
 * The wire: eyeballs' own UDP and TCP (`stubResolver`), or c-ares (the default resolver's on Node).
 *
 * @module
 */

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type net from "node:net";
import { createStubResolverWith } from "../../src/dns/stub.ts";
import { exchange } from "../../src/dns/exchange.ts";
import { caresExchange } from "../../src/dns/cares.ts";
import { connect } from "../../src/adapters/node/mod.ts";
import { cachingResolver } from "../../src/dns/cache.ts";
import { FakeClock } from "../helpers/fake_clock.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const [hostsFile, port, wire] = [argv[0], Number(argv[1]), argv[2] ?? "own"];
const resolver = createStubResolverWith({ hostsFile }, wire === "cares" ? caresExchange : exchange);
const open = () => new AbortController().signal;
const outcome = async <T>(p: Promise<T>) => {
  try {
    return { value: await p };
  } catch (e) {
    return { error: String(e), code: (e as { code?: string }).code };
  }
};

const result: Record<string, unknown> = {};
result.dual6 = await outcome(resolver.resolveWithTtl("dual.lab.test", 6, open()));
result.big6 = await outcome(resolver.resolveWithTtl("big.lab.test", 6, open())); // 925 bytes: fits EDNS0's 1232
result.oldServer4 = await outcome(resolver.resolveWithTtl("old.lab.test", 4, open())); // FORMERR to EDNS0
result.clean4 = await outcome(resolver.resolveWithTtl("clean.lab.test", 4, open())); // TC, no records: TCP
result.cut4 = await outcome(resolver.resolveWithTtl("cut.lab.test", 4, open())); // TC, counts past the end: TCP
result.ttl4 = await outcome(resolver.resolveWithTtl("ttl.lab.test", 4, open()));
result.nodata = await outcome(resolver.resolveWithTtl("v4.lab.test", 6, open()));
result.nx = await outcome(resolver.resolveWithTtl("nx.lab.test", 4, open()));
result.servfail = await outcome(resolver.resolveWithTtl("broken.lab.test", 4, open()));
result.fromHosts = await outcome(resolver.resolveWithTtl("pinned.lab.test", 4, open()));
result.hostsOtherFamily = await outcome(resolver.resolveWithTtl("pinned.lab.test", 6, open()));

/**
 * The UDP and TCP sockets this process holds, as "kind inode" (its fds' links matched against
 * /proc/net/{udp,udp6,tcp,tcp6}). Not every fd: Deno (2.9.6) opens a pair of Unix sockets of its
 * own a few hundred ms after start, even in a script that only sleeps, which a count of all fds
 * took for a leak.
 */
const inetSockets = (): string[] => {
  const kinds = new Map<string, string>();
  for (const kind of ["tcp", "tcp6", "udp", "udp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/net/${kind}`, "utf8");
    } catch { /* no such family here */ }
    for (const line of text.split("\n").slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inode !== "0") kinds.set(inode, kind);
    }
  }
  const held: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    let link = "";
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch { /* closed meanwhile (the directory's own fd) */ }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode && kinds.has(inode)) held.push(`${kinds.get(inode)} ${inode}`);
  }
  return held.sort();
};
const socketsBefore = inetSockets();

// A silent server: the abort ends the lookup at once.
const controller = new AbortController();
setTimeout(() => controller.abort(new Error("caller gave up")), 50);
result.silentAborted = await outcome(resolver.resolve("quiet.lab.test", 6, controller.signal));

// 8 connects whose AAAA is never answered, and one healthy connect meanwhile: all land.
const stalled = Array.from(
  { length: 8 },
  () =>
    outcome(
      connect({ host: "stalled.lab.test", port, resolver, timeout: 5000 }).then((s: net.Socket) => {
        const address = s.remoteAddress;
        s.destroy();
        return address;
      }),
    ),
);
result.healthy = await outcome(
  connect({ host: "dual.lab.test", port, resolver, timeout: 5000 }).then((s) => {
    const address = s.remoteAddress;
    s.destroy();
    return address;
  }),
);
result.stalled = await Promise.all(stalled);

// 50 lookups to the silent server, aborted together: every UDP socket is closed.
const many = new AbortController();
const pending = Array.from({ length: 50 }, () => outcome(resolver.resolve("quiet.lab.test", 4, many.signal)));
setTimeout(() => many.abort(new Error("enough")), 50);
await Promise.all(pending);
await new Promise((resolve) => setTimeout(resolve, 100));
// A closed socket's fd goes when the runtime has finished closing it: on Deno (2.9.6) under load, one
// was still listed 100 ms after the abort and gone a few ms later. A leaked one never goes (nor does
// the process exit), so wait for the count to come back, for at most 5 s.
const lingering = inetSockets();
for (let i = 0; i < 50 && inetSockets().length > socketsBefore.length; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
result.sockets = { before: socketsBefore, after: inetSockets(), lingering };

// The cache on a fake clock: 3 lookups within the TTL, one after it. The test counts the
// queries the server saw for cached.lab.test: 2 (not 4, not 1).
const clock = new FakeClock();
const cached = cachingResolver(resolver, { clock });
for (let i = 0; i < 3; i++) await cached.resolve("cached.lab.test", 4, open());
await clock.advance(5000);
await cached.resolve("cached.lab.test", 4, open());
console.log(JSON.stringify(result));
