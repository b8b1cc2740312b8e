/**
 * Where the CLI's entry point is, and which runtime runs the tests, for the
 * tests that start the CLI as a process: `src/cli/main.ts` from the source
 * tree, `src/cli/main.js` from the npm build (npm_test/), which keeps the
 * same layout.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
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

/** How long a CLI process may run before {@linkcode cli} kills it (then `code` is null). */
export const HANG_MS = 15_000;

/** What one CLI process did. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the whole process, start to exit. */
  ms: number;
}

/** Runs `eyeballs ...args` under this test's runtime (Deno and Bun run the .ts, Node the built .js). */
export function cli(...args: string[]): Promise<CliResult> {
  const [command, argv] = "Deno" in globalThis
    ? [process.execPath, ["run", "-A", "--no-lock", mainFile, ...args]]
    : [process.execPath, [mainFile, ...args]];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill("SIGKILL"), HANG_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
