/**
 * The `eyeballs` command as a module: {@linkcode main} runs it with the
 * runtime's dialer and resolves to the exit status. Importing this module
 * runs nothing; it runs the CLI only as the program's entry point
 * (`deno run -A jsr:@eyeballs/connect/cli HOST PORT`, `bun`, or Node 24 and
 * later). The npm package's `eyeballs` bin is `main.ts`, which calls
 * {@linkcode main} on every Node version.
 *
 * @example
 * ```ts
 * import { main } from "@eyeballs/connect/cli";
 * const status = await main(["--json", "localhost", "8080"]); // 0, 1 or 2 (see EXIT)
 * ```
 *
 * @module
 */

import process from "node:process";
import { run, type Runtime } from "./run.ts";

export { EXIT } from "./run.ts";

/**
 * Deno dials with `Deno.connect`; Bun and Node with `node:net` (Bun's own
 * connect cannot be cancelled). Imported on demand so Node never loads the
 * Deno adapter. `--tls` goes through the adapter's `connectTls` on
 * `node:tls` (see ./tls.ts).
 */
async function loadRuntime(): Promise<Runtime> {
  const { systemSourceAddresses: sourceAddresses, systemNetworkId: networkId } = await import(
    "../adapters/shared/source_addresses.ts"
  );
  const { nodeTlsConnector } = await import("./tls.ts");
  // --tls: the adapter's connectTls on node:tls, loaded only when asked for. Under Deno it is Node's (over Deno's
  // node:net): Deno.TlsConn shows no peer certificate, and Deno.startTls takes no server name apart from the host.
  const nodeConnectTls = nodeTlsConnector(
    async (options) => (await import("../adapters/node/tls.ts")).connectTls(options),
    "host",
  );
  if ("Deno" in globalThis) {
    const { denoDialer, systemResolver } = await import("../adapters/deno/mod.ts");
    return { dialer: denoDialer, resolver: systemResolver, sourceAddresses, networkId, connectTls: nodeConnectTls };
  }
  // The Node adapter's own default: the stub resolver (no thread-pool stall) where nsswitch allows it.
  const { autoResolver, nodeDialer } = await import("../adapters/node/mod.ts");
  const connectTls = "Bun" in globalThis
    ? nodeTlsConnector(async (options) => (await import("../adapters/bun/tls.ts")).connectTls(options), "hostname")
    : nodeConnectTls;
  return { dialer: nodeDialer, resolver: autoResolver, sourceAddresses, networkId, connectTls };
}

/**
 * The command-line arguments after the program name, on any runtime.
 *
 * @example
 * ```ts
 * import { commandLine } from "@eyeballs/connect/cli";
 * console.log(commandLine()); // e.g. ["example.com", "443"]
 * ```
 */
export function commandLine(): string[] {
  return "Deno" in globalThis ? [...Deno.args] : process.argv.slice(2);
}

/**
 * Runs `eyeballs` with `args` (default: this process's arguments), writing
 * to stdout and stderr; resolves to the exit status (0 connected, 1 a
 * connect failed, 2 bad arguments). It does not exit the process.
 *
 * @example
 * ```ts
 * import { main } from "@eyeballs/connect/cli";
 * if (await main(["example.com", "443"]) !== 0) console.error("no connection");
 * ```
 */
export async function main(args: readonly string[] = commandLine()): Promise<number> {
  return await run(args, await loadRuntime());
}

// Only as the entry point. Exit at once rather than when the event loop
// drains: a lookup of the other family may still run in the background.
// No top-level await: that would make the module impossible to require() (require(esm)).
if ((import.meta as { main?: boolean }).main) main().then((status) => process.exit(status));
