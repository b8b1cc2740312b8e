/**
 * What every adapter's `connect` does: check the options under the
 * runtime's own names, fill in the system resolver, run the core's race with
 * the adapter's dialer, and hand back the bare connection.
 *
 * @module
 */

import { connect, type RaceSettings } from "../core/connect.ts";
import type { Dialer, Resolver } from "../core/types.ts";
import { describe, requireHost } from "../core/validate.ts";
import { systemResolver } from "./node/resolver.ts";

/**
 * Connects with `dialer` to the host named by `options[hostField]` and
 * `options.port`; errors name the fields as the caller spelled them.
 */
export async function adapterConnect<Conn>(
  options: RaceSettings & { readonly port: number; readonly resolver?: Resolver },
  hostField: "host" | "hostname",
  dialer: Dialer<Conn>,
): Promise<Conn> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const { [hostField]: host, resolver = systemResolver, ...settings } = options as typeof options & {
    host?: unknown;
    hostname?: unknown;
  };
  requireHost(host, hostField);
  const { conn } = await connect({ ...settings, hostname: host as string, resolver, dialer });
  return conn;
}
