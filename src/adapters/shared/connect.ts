/**
 * What every adapter's `connect` does: fill in the system resolver and the
 * host's source addresses, run the
 * core's race with the adapter's dialer under the runtime's own name for the
 * host field, and hand back the bare connection.
 *
 * @module
 */

import { connectAs, type RaceSettings } from "../../core/connect.ts";
import type { Dialer, Resolver } from "../../core/types.ts";
import { requireObject } from "../../core/validate.ts";
import { systemResolver } from "./system_resolver.ts";
import { systemSourceAddresses } from "./source_addresses.ts";

/**
 * Connects with `dialer` to the host named by `options[hostField]` and
 * `options.port`; errors name the fields as the caller spelled them.
 */
export async function adapterConnect<Conn>(
  options: RaceSettings & { readonly port: number; readonly resolver?: Resolver },
  hostField: "host" | "hostname",
  dialer: Dialer<Conn>,
): Promise<Conn> {
  requireObject(options);
  const { [hostField]: host, resolver = systemResolver, ...settings } = options as typeof options & {
    host?: string;
    hostname?: string;
  };
  const sourceAddresses = settings.sourceAddresses ?? systemSourceAddresses(); // RFC 6724 order, NAT64 detection
  const { conn } = await connectAs(
    { ...settings, sourceAddresses, hostname: host as string, resolver, dialer },
    hostField,
  );
  return conn;
}
