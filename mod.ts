/**
 * eyeballs: connect to multi-homed servers fast, the Happy Eyeballs way
 * (RFC 8305), on Deno, Bun and Node.
 *
 * This entry point is the runtime-agnostic core: {@linkcode connect} races
 * attempts through any {@linkcode Dialer} and {@linkcode Resolver}. For a
 * ready connect on your runtime import `@eyeballs/connect/deno`,
 * `@eyeballs/connect/node` or `@eyeballs/connect/bun`. Advanced pieces have
 * subpaths of their own: `/race` (schedule constants, the clock), `/history`
 * (the store's parts, for your own store), `/addresses` (RFC 6724, NAT64,
 * address classes) and `/dns` (the DNS cache's types).
 *
 * @example
 * ```ts
 * import { connect, halving } from "@eyeballs/connect";
 * const { conn, attempts } = await connect({
 *   hostname: "192.0.2.1", port: 80, schedule: halving(500),
 *   dialer: { dial: (t) => Promise.resolve(t.address), close: () => {} },
 * });
 * ```
 *
 * @module
 */

export { connect } from "./src/connect/connect.ts";
export type { Connected, ConnectOptions, RaceSettings } from "./src/connect/options.ts";
export type { Attempt, ConnectEvent, Dialer, Family, Resolver, Target } from "./src/base/types.ts";
export { AttemptError, ConnectError, ResolveError } from "./src/base/errors.ts";
export { defaultSchedule, fixedDelay, halving, type Schedule } from "./src/race/schedule.ts";
export { defaultHistory, type History, MemoryHistory } from "./src/history/history.ts";
export { type AddressPolicy, denyAddresses, INTERNAL_CATEGORIES } from "./src/addresses/policy.ts";
export { cachingResolver } from "./src/dns/cache.ts";
