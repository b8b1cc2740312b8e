#!/usr/bin/env node
/**
 * The `eyeballs` command: connects to HOST PORT the Happy Eyeballs way and
 * prints how (see `eyeballs --help`).
 *
 *   deno run -A src/cli/main.ts HOST PORT
 *   bun src/cli/main.ts HOST PORT
 *   npx eyeballs HOST PORT            (the npm build)
 *
 * This file only picks the runtime's dialer; the CLI is in `run.ts`.
 *
 * @module
 */

import process from "node:process";
import { run, type Runtime } from "./run.ts";

/**
 * Deno dials with `Deno.connect`; Bun and Node with `node:net` (Bun's own
 * connect cannot be cancelled). Imported on demand so Node never loads the
 * Deno adapter.
 */
async function loadRuntime(): Promise<Runtime> {
  const { systemSourceAddresses: sourceAddresses } = await import("../adapters/shared/source_addresses.ts");
  if ("Deno" in globalThis) {
    const { denoDialer, systemResolver } = await import("../adapters/deno/mod.ts");
    return { dialer: denoDialer, resolver: systemResolver, sourceAddresses };
  }
  const { nodeDialer, systemResolver } = await import("../adapters/node/mod.ts");
  return { dialer: nodeDialer, resolver: systemResolver, sourceAddresses };
}

const args = "Deno" in globalThis ? Deno.args : process.argv.slice(2);
const status = await run(args, await loadRuntime());
// Exit now rather than when the event loop drains: a lookup of the other
// family may still be running in the background, and the CLI is done.
process.exit(status);
