/**
 * Address order (RFC 8305 §4): families interleaved, the preferred family
 * first for `firstFamilyCount` addresses, then alternating; duplicates
 * dropped. Addresses may keep arriving while the race runs, so the order is
 * decided one address at a time, when the race takes the next one: an IPv6
 * answer that arrives late is still tried next.
 *
 * @module
 */

import { parseAddressList } from "./ip.ts";
import type { Family, Target } from "./types.ts";

/** How the queue orders addresses. */
export interface OrderOptions {
  /** The family tried first (RFC 8305: IPv6). */
  readonly preferredFamily: Family;
  /** How many addresses of the preferred family come before the first of the other (RFC 8305: 1). */
  readonly firstFamilyCount: number;
}

/**
 * The addresses of one name, fed in as they are resolved and taken out by
 * the race in Happy Eyeballs order.
 *
 * @example
 * ```ts
 * import { AddressQueue } from "@eyeballs/connect";
 * const queue = new AddressQueue(443, { preferredFamily: 6, firstFamilyCount: 1 });
 * queue.add(4, ["192.0.2.1", "192.0.2.2"]);
 * queue.add(6, ["2001:db8::1", "2001:DB8::1"]); // the duplicate is dropped
 * queue.end();
 * queue.take()?.address; // "2001:db8::1"
 * queue.take()?.address; // "192.0.2.1"
 * queue.take()?.address; // "192.0.2.2"
 * ```
 */
export class AddressQueue {
  readonly #port: number;
  readonly #order: OrderOptions;
  readonly #pending: Record<Family, string[]> = { 4: [], 6: [] };
  readonly #seen = new Set<string>();
  readonly #listeners = new Set<() => void>();
  #taken = 0;
  #lastFamily: Family | undefined;
  #ended = false;

  /** A queue for addresses on `port`, ordered by `order`. */
  constructor(port: number, order: OrderOptions) {
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

  /**
   * Adds addresses of `family`, keeping their order and dropping any already
   * seen. Throws a TypeError naming the first entry that is not an IP
   * address of that family.
   */
  add(family: Family, addresses: readonly string[]): void {
    if (this.#ended) throw new Error("AddressQueue: add() after end()");
    const fresh = parseAddressList(addresses, family).filter((address) => {
      const isNew = !this.#seen.has(address);
      this.#seen.add(address);
      return isNew;
    });
    this.#pending[family].push(...fresh);
    if (fresh.length) this.#notify();
  }

  /** Marks the queue complete: no more addresses will come. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Takes the next address to try, or undefined when none is waiting. */
  take(): Target | undefined {
    const want = this.#nextFamily();
    const family = this.#pending[want].length ? want : other(want);
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
    const { preferredFamily, firstFamilyCount } = this.#order;
    if (this.#taken < firstFamilyCount) return preferredFamily;
    return this.#lastFamily === preferredFamily ? other(preferredFamily) : preferredFamily;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

function other(family: Family): Family {
  return family === 6 ? 4 : 6;
}
