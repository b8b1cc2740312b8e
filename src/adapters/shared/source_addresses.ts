/**
 * This host's addresses, the candidate source addresses RFC 6724 orders
 * destinations by, read with `os.networkInterfaces()` (Node, Deno and Bun all
 * provide it) and kept for a short while so that a connect does not pay for it.
 *
 * @module
 */

import os from "node:os";
import type { SourceAddress } from "../../core/sort.ts";

/**
 * How long one reading of the interfaces is reused, in ms: a new address is seen within this time.
 *
 * @example
 * ```ts
 * import { SOURCE_ADDRESSES_LIFETIME } from "./source_addresses.ts";
 * SOURCE_ADDRESSES_LIFETIME; // 5000
 * ```
 */
export const SOURCE_ADDRESSES_LIFETIME = 5_000;

let cached: readonly SourceAddress[] = [];
let readAt = -Infinity;

/**
 * The host's unicast addresses with their prefix lengths, read at most once
 * per {@linkcode SOURCE_ADDRESSES_LIFETIME}. The same array is returned until
 * then, so the core builds its RFC 6724 selector once per reading. An empty
 * array (interfaces unreadable) leaves the resolver's order alone.
 *
 * @example
 * ```ts
 * import { systemSourceAddresses } from "./source_addresses.ts";
 * systemSourceAddresses().some((s) => s.address === "127.0.0.1"); // true on most hosts
 * ```
 */
export function systemSourceAddresses(now = performance.now()): readonly SourceAddress[] {
  if (now - readAt < SOURCE_ADDRESSES_LIFETIME) return cached;
  readAt = now;
  cached = readInterfaces();
  return cached;
}

function readInterfaces(): readonly SourceAddress[] {
  let interfaces: ReturnType<typeof os.networkInterfaces>;
  try {
    interfaces = os.networkInterfaces();
  } catch {
    return []; // e.g. Deno without --allow-sys: no ordering rather than no connect
  }
  const sources: SourceAddress[] = [];
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      // Node reports family as "IPv4"/"IPv6" (and as 4/6 in some versions); zones are dropped.
      const address = entry.address.split("%")[0];
      const prefixLength = Number(entry.cidr?.split("/")[1]);
      sources.push(Number.isInteger(prefixLength) ? { address, prefixLength } : { address });
    }
  }
  return sources;
}
