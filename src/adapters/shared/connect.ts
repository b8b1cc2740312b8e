/**
 * What every adapter's `connect` does: fill in the default resolver, run the
 * core's race with the adapter's dialer under the runtime's own name for the
 * host field, and hand back the bare connection.
 *
 * @module
 */

import { connectAs, type RaceSettings } from "../../core/connect.ts";
import type { Dialer, Resolver } from "../../core/types.ts";
import { requireObject } from "../../core/validate.ts";
import { systemResolver } from "./system_resolver.ts";

/**
 * Connects with `dialer` to the host named by `options[hostField]` and
 * `options.port`, resolving with `options.resolver` or else `defaultResolver`;
 * errors name the fields as the caller spelled them.
 */
export async function adapterConnect<Conn>(
  options: RaceSettings & { readonly port: number; readonly resolver?: Resolver },
  hostField: "host" | "hostname",
  dialer: Dialer<Conn>,
  defaultResolver: Resolver = systemResolver,
): Promise<Conn> {
  requireObject(options);
  const { [hostField]: host, resolver = defaultResolver, ...settings } = options as typeof options & {
    host?: string;
    hostname?: string;
  };
  const { conn } = await connectAs({ ...settings, hostname: host as string, resolver, dialer }, hostField);
  return conn;
}
