/**
 * History's parts, for writing a store of your own (a database, a shared
 * cache): the stored shapes, the update and view rules every store applies,
 * and the in-memory store's limits. See docs/history.md.
 *
 * @example
 * ```ts
 * import { type History, HISTORY_TTL, type StoredHost, updateStoredHost, viewOfStoredHost } from "@eyeballs/connect/history";
 * const rows = new Map<string, StoredHost>();
 * const store: History = {
 *   lookup: (host, port) => {
 *     const row = rows.get(`${host}:${port}`);
 *     return row && viewOfStoredHost(row, Date.now());
 *   },
 *   record: (host, port, outcomes) => {
 *     const key = `${host}:${port}`;
 *     rows.set(key, updateStoredHost(rows.get(key), outcomes, Date.now(), HISTORY_TTL));
 *   },
 * };
 * ```
 *
 * @module
 */

export {
  type AddressOutcome,
  type AddressState,
  defaultHistory,
  type History,
  HISTORY_MAX_HOSTS,
  HISTORY_MAX_NETWORKS,
  HISTORY_TTL,
  type HostHistory,
  isExpired,
  type KnownAddress,
  MemoryHistory,
  type MemoryHistoryOptions,
  NETWORK_RTT_MIN_HOSTS,
  type NetworkRtt,
  networkRttOf,
  outcomesOf,
  type StoredAddress,
  type StoredHost,
  updateStoredHost,
  viewOfStoredHost,
} from "./history.ts";
export { NETWORK_DELAY_FLOOR, networkAttemptDelay, RTT_DELAY_MARGIN, rttAttemptDelay } from "./in_race.ts";
export { networkId } from "./network.ts";
