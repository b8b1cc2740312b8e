/**
 * Which network this host is on, as history partitions by it
 * (draft-ietf-happy-happyeyeballs-v3: history is per network, a Provisioning
 * Domain, and must not be carried to the next one). Pure: the adapters read
 * the host's addresses and default gateways and pass them in.
 *
 * @module
 */

import { addressBytes, parseIp } from "../addresses/ip.ts";
import type { SourceAddress } from "../addresses/rfc6724.ts";

/**
 * A short, stable name for the network this host is on, from its addresses
 * and its default routes' gateways: equal on the same network, different
 * after a move. Each address counts by its prefix (the address masked to its
 * `prefixLength`), so that a new DHCP lease or a new temporary IPv6 address
 * (RFC 8981, rotated daily) on the same link is not a new network; an address
 * without a prefix length counts whole. Loopback, link-local, multicast and
 * unspecified addresses say nothing of the network and are left out (a
 * gateway is kept even when link-local: it names the router). Undefined when
 * nothing is left: an unknown network is no partition.
 *
 * The name is a 64-bit hash in hex, so a history file does not list the
 * host's addresses.
 *
 * @example
 * ```ts
 * import { networkId } from "@eyeballs/connect/history";
 * const home = networkId([{ address: "192.168.1.20", prefixLength: 24 }], ["192.168.1.1"]);
 * home === networkId([{ address: "192.168.1.77", prefixLength: 24 }], ["192.168.1.1"]); // true: same link
 * home === networkId([{ address: "10.0.0.5", prefixLength: 8 }], ["10.0.0.1"]); // false: another network
 * ```
 */
export function networkId(
  sources: readonly (string | SourceAddress)[],
  gateways: readonly string[] = [],
): string | undefined {
  const parts = new Set<string>();
  for (const source of sources) {
    const { address, prefixLength } = typeof source === "string"
      ? { address: source, prefixLength: undefined }
      : source;
    const ip = typeof address === "string" ? parseIp(address) : undefined;
    if (ip === undefined || !saysWhichNetwork(ip.address, ip.family)) continue;
    const bits = typeof prefixLength === "number" && Number.isInteger(prefixLength) ? prefixLength : undefined;
    parts.add(`a${ip.family}:${prefixOf(ip.address, ip.family, bits)}`);
  }
  for (const gateway of gateways) {
    const ip = typeof gateway === "string" ? parseIp(gateway.split("%")[0]) : undefined;
    if (ip !== undefined) parts.add(`g${ip.family}:${ip.address}`);
  }
  if (parts.size === 0) return undefined;
  return hash64([...parts].sort().join(" "));
}

/** Not loopback, link-local, multicast or unspecified: an address a network handed out. */
function saysWhichNetwork(address: string, family: 4 | 6): boolean {
  const b = addressBytes(address);
  if (family === 4) {
    const [x, y] = [b[12], b[13]];
    return !(x === 0 || x === 127 || (x === 169 && y === 254) || x >= 224);
  }
  if (b.every((v, i) => i === 15 ? v <= 1 : v === 0)) return false; // :: and ::1
  if (b[0] === 0xff) return false; // multicast
  return !(b[0] === 0xfe && (b[1] & 0xc0) === 0x80); // fe80::/10
}

/** The address's first `bits` bits, as hex of the 16 mapped bytes (the whole address when `bits` is undefined). */
function prefixOf(address: string, family: 4 | 6, bits: number | undefined): string {
  const bytes = addressBytes(address);
  if (bits !== undefined) {
    const kept = Math.max(0, Math.min(family === 4 ? 32 : 128, bits)) + (family === 4 ? 96 : 0);
    for (let i = 0; i < 16; i++) {
      const keep = Math.max(0, Math.min(8, kept - 8 * i));
      bytes[i] &= (0xff << (8 - keep)) & 0xff;
    }
  }
  return `${Array.from(bytes, (v) => v.toString(16).padStart(2, "0")).join("")}/${bits ?? "all"}`;
}

/** Two 32-bit FNV-1a hashes (different offsets) side by side: 16 hex digits. Not cryptographic: a name, not a secret. */
function hash64(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h2 >>> 15);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}
