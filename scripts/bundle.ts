/**
 * Bundles the published entry points (deno.json `exports`, plus the CLI's
 * bin) for Node and Bun with the pinned deno's `deno bundle`: ESM, code
 * splitting (a class used by two entry points lives in one shared chunk, so
 * `instanceof` holds across subpaths), `node:` builtins left as imports, a
 * linked source map per file. Loading ~40 small modules costs Node a
 * resolution, a read and a compile each; a bundled entry is a handful.
 *
 * Used by scripts/build_npm.ts (the package) and bench/node_build.ts (the
 * bench's Node runners), so both load the same shape of code.
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";

/** The CLI's bin, apart from `./cli` (importing that module must not run the CLI). */
export const BIN_SOURCE = "src/cli/main.ts";

/** One published entry point: its key (`"."`, `"./node"`, … or `"bin"`) and its source, relative to the root. */
export interface EntryPoint {
  readonly key: string;
  readonly source: string;
}

/** Every entry point the package publishes: deno.json `exports` in order, then the bin. */
export function entryPoints(root: string): EntryPoint[] {
  const deno = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")));
  const exports = Object.entries(deno.exports as Record<string, string>)
    .map(([key, path]) => ({ key, source: path.replace(/^\.\//, "") }));
  return [...exports, { key: "bin", source: BIN_SOURCE }];
}

/** `src/x.ts` -> `src/x.js`: where an entry's bundled file lands in the output directory. */
export function bundledPath(source: string): string {
  return source.replace(/\.ts$/, ".js");
}

/**
 * Bundles `sources` (relative to `root`) into `outDir` (a new directory: all of
 * it is checked), keeping their paths
 * (`src/adapters/node/mod.ts` -> `outDir/src/adapters/node/mod.js`); shared
 * code goes to `outDir/chunk-*.js`. Fails if the output imports anything but
 * its own files and `node:` builtins. Returns the written files, relative to `outDir`.
 */
export async function bundle(root: string, sources: readonly string[], outDir: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=deno",
      "--format=esm",
      "--code-splitting",
      "--sourcemap=linked",
      `--outdir=${outDir}`,
      ...sources,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`deno bundle failed:\n${decoder.decode(stdout)}${decoder.decode(stderr)}`);
  const written = listFiles(outDir).filter((f) => /\.js(\.map)?$/.test(f));
  const foreign = new Set<string>();
  for (const file of written.filter((f) => f.endsWith(".js"))) {
    for (const specifier of importsOf(Deno.readTextFileSync(join(outDir, file)))) {
      if (!specifier.startsWith(".") && !specifier.startsWith("node:")) foreign.add(`${file}: ${specifier}`);
    }
  }
  if (foreign.size) throw new Error(`bundle imports what it does not ship: ${[...foreign].join(", ")}`);
  for (const source of sources) {
    if (!written.includes(bundledPath(source))) throw new Error(`deno bundle wrote no ${bundledPath(source)}`);
  }
  return written;
}

/** The module specifiers a bundled file imports, statically or with `import()`. */
export function importsOf(js: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^"';]*?\bfrom\s*"([^"]+)"/gm,
    /^\s*import\s*"([^"]+)"/gm,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of js.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** The .js files (relative to `dir`) that `entries` load, themselves included, following relative imports. */
export function reachableFrom(dir: string, entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(Deno.readTextFileSync(join(dir, file)))) {
      if (specifier.startsWith(".")) queue.push(relative(dir, resolve(dir, dirname(file), specifier)));
    }
  }
  return seen;
}

/** Every file under `dir`, relative to it, sorted. */
export function listFiles(dir: string, under = ""): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(join(dir, under))) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory) found.push(...listFiles(dir, rel));
    else if (entry.isFile) found.push(rel);
  }
  return found.sort();
}
