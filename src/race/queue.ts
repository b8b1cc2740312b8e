/**
 * The address queue (RFC 8305 §4): families interleaved, the leading
 * family first for `firstAddressFamilyCount` addresses, then alternating;
 * duplicates dropped. An optional ranking (RFC 6724, history) orders the
 * addresses within each family and picks the leading family. Addresses may keep arriving while the race runs, so the
 * order is decided one address at a time, when the race takes the next one:
 * an IPv6 answer that arrives late is still tried next.
 *
 * @module
 */

import { type Family, otherFamily, type Target } from "../base/types.ts";

/** Ranks two canonical addresses (of any family): negative when `a` should be tried before `b`, 0 for a tie. */
export type Rank = (a: string, b: string) => number;

/**
 * A ranking that asks `first`, and `second` only on a tie; either may be
 * missing (undefined when both are).
 */
export function thenBy(first?: Rank, second?: Rank): Rank | undefined {
  if (!first || !second) return first ?? second;
  return (a, b) => first(a, b) || second(a, b);
}

/** How the queue interleaves families. */
export interface InterleaveOptions {
  /** The family tried first (RFC 8305: IPv6). */
  readonly preferredFamily: Family;
  /** How many addresses of the leading family come before the first of the other (RFC 8305: 1). */
  readonly firstAddressFamilyCount: number;
  /**
   * Ranks two addresses (of any family): negative when `a` should be tried
   * before `b`, 0 to keep the order they arrived in. It sorts each family's
   * waiting addresses, and when the first address is taken with both
   * families waiting, the family of the better head leads (a tie leaves
   * `preferredFamily`). Default: arrival order.
   */
  readonly rank?: Rank;
}

/**
 * The addresses of one name, fed in as they are resolved and taken out by
 * the race in Happy Eyeballs order. Addresses go in canonical form (as
 * `parseIp` writes them), so that duplicates compare equal.
 */
export class AddressQueue {
  readonly #port: number;
  readonly #order: InterleaveOptions;
  #pending: Record<Family, string[]> = { 4: [], 6: [] };
  readonly #seen = new Set<string>();
  readonly #listeners = new Set<() => void>();
  /** HTTPS/SVCB endpoints (RFC 9460): an address's priority group (lower first) and port; none: plain A/AAAA. */
  #groups: Map<string, number> | undefined;
  #ports: Map<string, number> | undefined;
  #taken = 0;
  #leading: Family | undefined;
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
    if (this.#pending[family].length === before) return;
    this.#sort(family);
    this.#notify();
  }

  /**
   * Adds addresses of one HTTPS/SVCB endpoint (RFC 9460, draft-ietf-happy-happyeyeballs-v3 §4): they go in
   * `group` order before the rank (lower first; addresses added with {@linkcode add} come after every group),
   * and are dialled on `port`. An address already waiting moves to the lower of its groups.
   */
  addEndpoint(family: Family, addresses: readonly string[], group: number, port: number): void {
    if (this.#ended) throw new Error("AddressQueue: addEndpoint() after end()");
    const groups = this.#groups ??= new Map();
    const ports = this.#ports ??= new Map();
    const waiting = new Set(this.#pending[family]);
    const fresh: string[] = [];
    for (const address of addresses) {
      if (this.#seen.has(address) && !waiting.has(address)) continue; // taken already
      const known = groups.get(address);
      if (known === undefined || group < known) {
        groups.set(address, group);
        ports.set(address, port);
      }
      if (!waiting.has(address)) fresh.push(address);
    }
    for (const address of fresh) this.#seen.add(address);
    this.#pending[family].push(...fresh);
    this.#sort(family);
    this.#notify();
  }

  /** Removes addresses still waiting (hints the real answer did not confirm); returns those removed. */
  drop(family: Family, addresses: readonly string[]): string[] {
    const gone = new Set(addresses);
    const removed = this.#pending[family].filter((a) => gone.has(a));
    if (removed.length === 0) return removed;
    this.#pending[family] = this.#pending[family].filter((a) => !gone.has(a));
    for (const address of removed) {
      this.#seen.delete(address);
      this.#groups?.delete(address);
      this.#ports?.delete(address);
    }
    this.#notify();
    return removed;
  }

  /** The group order, then the rank (stable: ties keep arrival order). */
  #sort(family: Family): void {
    const { rank } = this.#order;
    const groups = this.#groups;
    if (groups) {
      const group = (a: string) => groups.get(a) ?? Infinity;
      this.#pending[family].sort((a, b) => (group(a) - group(b) || 0) || (rank ? rank(a, b) : 0));
    } else if (rank) this.#pending[family].sort(rank);
  }

  /** Marks the queue complete: no more addresses will come. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Takes the next address to try, or undefined when none is waiting. */
  take(): Target | undefined {
    let want = this.#nextFamily();
    const groups = this.#groups;
    if (groups) { // a lower HTTPS/SVCB group goes first, whatever its family; within a group, families alternate
      const groupOf = (f: Family) => {
        const head = this.#pending[f][0];
        return head === undefined ? Infinity : groups.get(head) ?? Infinity;
      };
      if (groupOf(otherFamily(want)) < groupOf(want)) want = otherFamily(want);
    }
    const family = this.#pending[want].length ? want : otherFamily(want);
    const address = this.#pending[family].shift();
    if (address === undefined) return undefined;
    this.#taken++;
    this.#lastFamily = family;
    return { address, family, port: this.#ports?.get(address) ?? this.#port };
  }

  /** Calls `listener` whenever addresses are added or the queue ends. Returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #nextFamily(): Family {
    const leading = this.#leading ??= this.#leadingFamily();
    if (this.#taken < this.#order.firstAddressFamilyCount) return leading;
    return this.#lastFamily === leading ? otherFamily(leading) : leading;
  }

  /** The preferred family, unless the ranking puts the other family's head first. */
  #leadingFamily(): Family {
    const { preferredFamily, rank } = this.#order;
    const [best, other] = [this.#pending[preferredFamily][0], this.#pending[otherFamily(preferredFamily)][0]];
    if (best === undefined || other === undefined) return preferredFamily;
    const groups = this.#groups;
    const byGroup = groups ? (groups.get(other) ?? Infinity) - (groups.get(best) ?? Infinity) || 0 : 0;
    if (byGroup !== 0) return byGroup < 0 ? otherFamily(preferredFamily) : preferredFamily;
    if (!rank) return preferredFamily;
    return rank(other, best) < 0 ? otherFamily(preferredFamily) : preferredFamily;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
