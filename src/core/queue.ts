/**
 * The address queue (RFC 8305 §4): families interleaved, the preferred
 * family first for `firstAddressFamilyCount` addresses, then alternating;
 * duplicates dropped. Addresses may keep arriving while the race runs, so the
 * order is decided one address at a time, when the race takes the next one:
 * an IPv6 answer that arrives late is still tried next.
 *
 * @module
 */

import { otherFamily } from "./ip.ts";
import type { Family, Target } from "./types.ts";

/** How the queue interleaves families. */
export interface InterleaveOptions {
  /** The family tried first (RFC 8305: IPv6). */
  readonly preferredFamily: Family;
  /** How many addresses of the preferred family come before the first of the other (RFC 8305: 1). */
  readonly firstAddressFamilyCount: number;
}

/**
 * The addresses of one name, fed in as they are resolved and taken out by
 * the race in Happy Eyeballs order. Addresses go in canonical form (as
 * `parseIp` writes them), so that duplicates compare equal.
 *
 * @example
 * ```ts
 * import { AddressQueue } from "./queue.ts";
 * const queue = new AddressQueue(443, { preferredFamily: 6, firstAddressFamilyCount: 1 });
 * queue.add(4, ["192.0.2.1", "192.0.2.2"]);
 * queue.add(6, ["2001:db8::1", "2001:db8::1"]); // the duplicate is dropped
 * queue.end();
 * queue.take()?.address; // "2001:db8::1"
 * queue.take()?.address; // "192.0.2.1"
 * queue.take()?.address; // "192.0.2.2"
 * ```
 */
export class AddressQueue {
  readonly #port: number;
  readonly #order: InterleaveOptions;
  readonly #pending: Record<Family, string[]> = { 4: [], 6: [] };
  readonly #seen = new Set<string>();
  readonly #listeners = new Set<() => void>();
  #taken = 0;
  #lastFamily: Family | undefined;
  #ended = false;

  /** A queue for addresses on `port`, ordered by `order`. */
  constructor(port: number, order: InterleaveOptions) {
    this.#port = port;
    this.#order = order;
  }

  /** True once {@linkcode end} was called: no address will be added. */
  get ended(): boolean {
    return this.#ended;
  }

  /** How many addresses wait to be taken. */
  get size(): number {
    return this.#pending[4].length + this.#pending[6].length;
  }

  /** Adds canonical addresses of `family`, keeping their order and dropping any already seen. */
  add(family: Family, addresses: readonly string[]): void {
    if (this.#ended) throw new Error("AddressQueue: add() after end()");
    const before = this.#pending[family].length;
    for (const address of addresses) {
      if (this.#seen.has(address)) continue;
      this.#seen.add(address);
      this.#pending[family].push(address);
    }
    if (this.#pending[family].length > before) this.#notify();
  }

  /** Marks the queue complete: no more addresses will come. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Takes the next address to try, or undefined when none is waiting. */
  take(): Target | undefined {
    const want = this.#nextFamily();
    const family = this.#pending[want].length ? want : otherFamily(want);
    const address = this.#pending[family].shift();
    if (address === undefined) return undefined;
    this.#taken++;
    this.#lastFamily = family;
    return { address, family, port: this.#port };
  }

  /** Calls `listener` whenever addresses are added or the queue ends. Returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #nextFamily(): Family {
    const { preferredFamily, firstAddressFamilyCount } = this.#order;
    if (this.#taken < firstAddressFamilyCount) return preferredFamily;
    return this.#lastFamily === preferredFamily ? otherFamily(preferredFamily) : preferredFamily;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
