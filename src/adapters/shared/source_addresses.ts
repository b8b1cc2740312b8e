/**
 * This host's addresses, the candidate source addresses RFC 6724 orders
 * destinations by, read with `os.networkInterfaces()` (Node, Deno and Bun all
 * provide it) and kept for a short while so that a connect does not pay for it.
 *
 * @module
 */

import type { SourceAddress } from "../../addresses/rfc6724.ts";
import { builtinModule } from "../../runtime/lazy_modules.ts";

/**
 * How long one reading of the interfaces is reused, in ms: a new address is seen within this time.
 */
export const SOURCE_ADDRESSES_LIFETIME = 5_000;

let cached: readonly SourceAddress[] = [];
let readAt = -Infinity;

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
