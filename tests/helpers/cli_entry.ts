/**
 * Where the CLI's entry point is, and which runtime runs the tests, for the
 * tests that start the CLI as a process: `src/cli/main.ts` from the source
 * tree, `src/cli/main.js` from the npm build (npm_test/), which keeps the
 * same layout.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** True when the tests run from the TypeScript sources, false from the npm build. */
export const fromSource: boolean = import.meta.url.endsWith(".ts");

/** The CLI's entry point (this file is tests/helpers/, two levels below the root, like every test). */
export const mainFile: string = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "src",
  "cli",
  fromSource ? "main.ts" : "main.js",
);

/** The runtime running the tests, as its command is named. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
