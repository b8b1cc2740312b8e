/**
 * This host's addresses, the candidate source addresses RFC 6724 orders
 * destinations by, read with `os.networkInterfaces()` (Node, Deno and Bun all
 * provide it) and kept for a short while so that a connect does not pay for it.
 *
 * @module
 */

import type { SourceAddress } from "../../addresses/rfc6724.ts";
import { networkId } from "../../history/network.ts";
import { builtinModule } from "../../runtime/lazy_modules.ts";

/**
 * How long one reading of the interfaces is reused, in ms: a new address is seen within this time.
 */
export const SOURCE_ADDRESSES_LIFETIME = 5_000;

let cached: readonly SourceAddress[] = [];
let readAt = -Infinity;
let network: string | undefined;
let networkReadAt = -Infinity;

/**
 * The host's unicast addresses with their prefix lengths, read at most once
 * per {@linkcode SOURCE_ADDRESSES_LIFETIME}. The same array is returned until
 * then, so the core builds its RFC 6724 selector once per reading. An empty
 * array (interfaces unreadable) leaves the resolver's order alone.
 */
export function systemSourceAddresses(now = performance.now()): readonly SourceAddress[] {
  if (now - readAt < SOURCE_ADDRESSES_LIFETIME) return cached;
  readAt = now;
  cached = readInterfaces();
  return cached;
}

/**
 * The network this host is on, for history's partitions: {@linkcode networkId}
 * of the interfaces' addresses (as {@linkcode systemSourceAddresses} reads
 * them) and of the default routes' gateways (Linux: `/proc/net/route` and
 * `/proc/net/ipv6_route`; elsewhere, or when they cannot be read, the
 * addresses alone). Read at most once per {@linkcode SOURCE_ADDRESSES_LIFETIME};
 * undefined when nothing could be read.
 */
export function systemNetworkId(now = performance.now()): string | undefined {
  const sources = systemSourceAddresses(now);
  if (now - networkReadAt < SOURCE_ADDRESSES_LIFETIME) return network;
  networkReadAt = now;
  network = networkId(sources, defaultGateways());
  return network;
}

/**
 * The next hops of this host's default routes, both families, from Linux's
 * route tables; `[]` when they cannot be read. Exported for tests, which give
 * the two files' text.
 */
export function defaultGateways(read: (path: string) => string = readProcFile): string[] {
  const gateways: string[] = [];
  for (const line of textOf(read, "/proc/net/route").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/); // Iface Destination Gateway Flags RefCnt Use Metric Mask …
    if (f.length < 8 || f[1] !== "00000000" || f[7] !== "00000000" || !/^[0-9A-Fa-f]{8}$/.test(f[2])) continue;
    const n = parseInt(f[2], 16); // the kernel writes it in host (little-endian) byte order
    if (n !== 0) gateways.push([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join("."));
  }
  for (const line of textOf(read, "/proc/net/ipv6_route").split("\n")) {
    const f = line.trim().split(/\s+/); // dest plen src splen nexthop metric refcnt use flags iface
    if (f.length < 10 || !/^0{32}$/.test(f[0]) || f[1] !== "00" || !/^[0-9a-f]{32}$/.test(f[4])) continue;
    if (/^0{32}$/.test(f[4]) || f[9] === "lo") continue; // no next hop, or the kernel's unreachable default
    gateways.push(f[4].match(/.{4}/g)!.join(":"));
  }
  return gateways;
}

function textOf(read: (path: string) => string, path: string): string {
  try {
    return read(path);
  } catch {
    return ""; // not Linux, or no permission: the addresses alone name the network
  }
}

const denoRead = (globalThis as { Deno?: { readTextFileSync(path: string): string } }).Deno;
function readProcFile(path: string): string {
  return denoRead
    ? denoRead.readTextFileSync(path)
    : builtinModule<typeof import("node:fs")>("node:fs").readFileSync(path, "utf8");
}

type Interface = { readonly address: string; readonly cidr?: string | null };
type Os = typeof import("node:os");
/** Deno's own call where there is one: importing `node:os` is slow in a fresh Deno process (docs/performance.md). */
const deno = (globalThis as { Deno?: { networkInterfaces(): Interface[] } }).Deno;

function readInterfaces(): readonly SourceAddress[] {
  let interfaces: Interface[];
  try {
    interfaces = deno
      ? deno.networkInterfaces()
      : Object.values(builtinModule<Os>("node:os").networkInterfaces()).flatMap((entries) => entries ?? []);
  } catch {
    return []; // e.g. Deno without --allow-sys: no ordering rather than no connect
  }
  return interfaces.map((entry) => {
    const address = entry.address.split("%")[0]; // zones are dropped
    const prefixLength = Number(entry.cidr?.split("/")[1]);
    return Number.isInteger(prefixLength) ? { address, prefixLength } : { address };
  });
}
