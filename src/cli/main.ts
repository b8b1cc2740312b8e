#!/usr/bin/env node
/**
 * The `eyeballs` program (the npm package's bin): runs the CLI with this
 * process's arguments and exits with its status (see `eyeballs --help`).
 *
 *   deno run -A src/cli/main.ts HOST PORT
 *   bun src/cli/main.ts HOST PORT
 *   npx @eyeballs/connect HOST PORT     (the npm build)
 *
 * To use the CLI from code without running it, import `./mod.ts`
 * (`@eyeballs/connect/cli`).
 *
 * @module
 */

import process from "node:process";
import { main } from "./mod.ts";

// Exit now rather than when the event loop drains: a lookup of the other
// family may still be running in the background, and the CLI is done.
process.exit(await main());
