/**
 * Bundles the published entry points (deno.json `exports`, plus the CLI's
 * bin) for Node and Bun: ESM in layers (see {@linkcode bundle}), `node:`
 * builtins left as imports, a linked source map per file without copies of
 * the sources. Loading ~40 small modules costs Node a resolution, a read and
 * a compile each; a bundled entry is two to four files.
 *
 * With the pinned esbuild's API rather than `deno bundle` (esbuild inside):
 * the layers need a plugin, which `deno bundle` does not take. Code
 * splitting over a dozen entries (what `deno bundle --code-splitting` did)
 * gave each entry twenty-odd chunks.
 *
 * Used by scripts/build_npm.ts (the package) and bench/node_build.ts (the
 * bench's Node runners), so both load the same shape of code.
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

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
 * (`src/adapters/node/mod.ts` -> `outDir/src/adapters/node/mod.js`).
 *
 * The modules are bundled in layers, one file each (`outDir/_layers/*.js`):
 * a module's layer is the set of runtime modules (`node:…`) it loads at
 * import, through its static imports; a layer's file imports only the layers
 * below it (subsets of its set), by name. So an entry loads the same runtime
 * modules as its sources do, each class exists in one file (`instanceof` holds
 * across subpaths), and an entry is a few files where code splitting over a
 * dozen entries made twenty-odd chunks (Node pays for every file it loads:
 * docs/performance.md). A published entry's file, and any module loaded with
 * `import()`, re-exports its names from its layer. The bin
 * is bundled on its own over the layers (importing it runs the CLI). Fails if
 * the output imports anything but its own files and `node:` builtins. Returns
 * the written files, relative to `outDir`.
 */
export async function bundle(root: string, sources: readonly string[], outDir: string): Promise<string[]> {
  const graph = await moduleGraph(root, sources);
  const layerOf = (path: string) => layerName(path, graph.get(path)!.loads);
  const layers = new Map<string, string[]>();
  for (const path of graph.keys()) {
    if (path === BIN_SOURCE) continue;
    layers.set(layerOf(path), [...(layers.get(layerOf(path)) ?? []), path]);
  }
  const names = new Map<string, string[]>();
  for (const path of graph.keys()) {
    if (path !== BIN_SOURCE) names.set(path, Object.keys(await import(pathToFileURL(join(root, path)).href)).sort());
  }
  const layerFile = (layer: string) => join(outDir, LAYERS_DIR, `${layer}.js`);
  const from = (file: string, target: string) => {
    const rel = relative(dirname(file), target);
    return rel.startsWith(".") ? rel : `./${rel}`;
  };
  // Entries, and modules that another layer loads with import(), get a file of their own at their path.
  const facades = new Set(sources.filter((s) => s !== BIN_SOURCE));
  const esbuild = loadEsbuild(root);
  const build = async (layer: string, entry: { stdin?: string; path?: string }, outfile: string) => {
    const plugin = {
      name: "layers",
      setup(b: EsbuildPluginBuild) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.namespace === "shim") return { path: args.path, external: true }; // a layer's file
          if (args.path.startsWith("node:")) return { path: args.path, external: true };
          const path = relative(root, resolve(args.resolveDir, args.path));
          if (!graph.has(path) || path === entry.path) return undefined;
          // Loaded later, through its own file: inlined, it would wrap its layer's modules in lazy initialisers,
          // which a user's bundler cannot tree-shake.
          if (args.kind === "dynamic-import") {
            facades.add(path);
            return { path: from(outfile, join(outDir, bundledPath(path))), external: true };
          }
          if (layerOf(path) === layer) return undefined;
          const importer = relative(root, args.importer);
          if (
            !isSubset(graph.get(path)!.loads, graph.get(importer)?.loads ?? []) ||
            (apart(path) !== "" && apart(path) !== apart(importer))
          ) {
            throw new Error(`${args.importer} imports ${path}, whose layer is not below its own`);
          }
          return { path, namespace: "shim" };
        });
        // An import() of a module in the same layer becomes a static import: the module is in this file anyway,
        // and a lazily evaluated one would be wrapped in an initialiser that users' bundlers cannot tree-shake.
        b.onLoad({ filter: /\.ts$/, namespace: "file" }, (args) => {
          const source = Deno.readTextFileSync(args.path);
          const here = relative(root, args.path);
          const lifted: string[] = [];
          const contents = source.replace(/\bimport\(\s*"(\.[^"]+)"\s*\)/g, (call, specifier: string) => {
            const target = relative(root, resolve(dirname(args.path), specifier));
            if (!graph.has(target) || !graph.has(here) || layerOf(target) !== layerOf(here)) return call;
            lifted.push(`import * as lifted$${lifted.length} from ${JSON.stringify(specifier)};`);
            return `Promise.resolve(lifted$${lifted.length - 1})`;
          });
          return { contents: lifted.length ? `${lifted.join("")}${contents}` : contents, loader: "ts" };
        });
        b.onLoad({ filter: /.*/, namespace: "shim" }, (args) => ({
          contents: reexport(args.path, names.get(args.path)!, from(outfile, layerFile(layerOf(args.path))), false),
          loader: "js",
        }));
      },
    };
    await esbuild.build({
      ...(entry.stdin
        ? { stdin: { contents: entry.stdin, resolveDir: root, sourcefile: `${layer}.ts`, loader: "ts" } }
        : { entryPoints: [join(root, entry.path!)] }),
      outfile,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "esnext",
      sourcemap: "linked",
      sourcesContent: false,
      logLevel: "error",
      plugins: [plugin],
    });
  };
  for (const [layer, members] of layers) {
    const stdin = members.map((path) => reexport(path, names.get(path)!, `./${path}`, true)).join("");
    await build(layer, { stdin }, layerFile(layer));
  }
  if (sources.includes(BIN_SOURCE)) await build("bin", { path: BIN_SOURCE }, join(outDir, bundledPath(BIN_SOURCE)));
  esbuild.stop();
  for (const path of facades) {
    const file = join(outDir, bundledPath(path));
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, reexport(path, names.get(path)!, from(file, layerFile(layerOf(path))), false));
  }
  const written = listFiles(outDir).filter((f) => /\.js(\.map)?$/.test(f));
  const foreign = new Set<string>();
  for (const file of written.filter((f) => f.endsWith(".js"))) {
    for (const specifier of importsOf(Deno.readTextFileSync(join(outDir, file)))) {
      if (!specifier.startsWith(".") && !specifier.startsWith("node:")) foreign.add(`${file}: ${specifier}`);
    }
  }
  if (foreign.size) throw new Error(`bundle imports what it does not ship: ${[...foreign].join(", ")}`);
  for (const source of sources) {
    if (!written.includes(bundledPath(source))) throw new Error(`the bundle has no ${bundledPath(source)}`);
  }
  return written;
}

/** Where the layers land, inside the output directory. */
const LAYERS_DIR = "_layers";

/**
 * A module's layer: the runtime modules it loads at import (`core` for none, else `net`, …), with the CLI, the
 * socket API, the client shims and the Deno adapter each apart (`cli-…`, …): an entry then loads none of the others'
 * code, and a user's bundler need not prove it unused (it cannot, for top-level calls such as the shared `lookup`).
 */
function layerName(path: string, loads: readonly string[]): string {
  const name = loads.length ? loads.map((b) => b.replace(/^node:/, "")).join("-") : "core";
  return apart(path) ? `${apart(path)}-${name}` : name;
}

/** The part of the code kept apart a module belongs to (`cli`, `socket`, `clients`, `deno`), else "". */
const apart = (path: string) => /^src\/(?:(cli|socket|clients)|adapters\/(deno))\//.exec(path)?.slice(1).join("") ?? "";

const isSubset = (a: readonly string[], b: readonly string[]) => a.every((x) => b.includes(x));

/** The name a module's export `name` has in its layer's file: unique across modules (`dns_stub$stubResolver`). */
function layered(path: string, name: string): string {
  return `${path.replace(/^src\//, "").replace(/\.ts$/, "").replace(/[^A-Za-z0-9]/g, "_")}$${name}`;
}

/** `export { … } from "from"`: a module's names as its layer exports them (`intoLayer`), or back under their own. */
function reexport(path: string, names: readonly string[], from: string, intoLayer: boolean): string {
  const pairs = names.map((n) => intoLayer ? `${n} as ${layered(path, n)}` : `${layered(path, n)} as ${n}`);
  return pairs.length ? `export { ${pairs.join(", ")} } from ${JSON.stringify(from)};\n` : "";
}

/** Every project module the sources reach (statically or with `import()`), with the runtime modules it loads at import. */
async function moduleGraph(root: string, sources: readonly string[]): Promise<Map<string, { loads: string[] }>> {
  type Dependency = { code?: { specifier: string }; isDynamic?: boolean };
  const edges = new Map<string, { static: string[]; dynamic: string[]; builtins: string[] }>();
  for (const source of sources) {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", source],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (code !== 0) throw new Error(`deno info ${source} failed`);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: { specifier: string; kind: string; dependencies?: Dependency[] }[];
    };
    for (const m of info.modules.filter((m) => m.kind === "esm" && m.specifier.startsWith("file:"))) {
      const path = relative(root, fileURLToPath(m.specifier));
      if (edges.has(path)) continue;
      const entry = { static: [] as string[], dynamic: [] as string[], builtins: [] as string[] };
      for (const d of m.dependencies ?? []) {
        if (!d.code) continue; // types only
        if (d.code.specifier.startsWith("node:")) {
          if (!d.isDynamic) entry.builtins.push(d.code.specifier);
        } else (d.isDynamic ? entry.dynamic : entry.static).push(relative(root, fileURLToPath(d.code.specifier)));
      }
      edges.set(path, entry);
    }
  }
  const loads = new Map<string, string[]>();
  const loadsOf = (path: string): string[] => {
    const known = loads.get(path);
    if (known) return known;
    loads.set(path, []); // a cycle adds nothing new
    const e = edges.get(path)!;
    const all = new Set([...e.builtins, ...e.static.flatMap(loadsOf)]);
    const sorted = [...all].sort();
    loads.set(path, sorted);
    return sorted;
  };
  return new Map([...edges.keys()].map((path) => [path, { loads: loadsOf(path) }]));
}

/** The part of esbuild's plugin API used here. */
interface EsbuildPluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (
      args: { path: string; importer: string; resolveDir: string; kind: string; namespace: string },
    ) => { path: string; external?: boolean; namespace?: string } | undefined,
  ): void;
  onLoad(
    options: { filter: RegExp; namespace: string },
    callback: (args: { path: string }) => { contents: string; loader: string },
  ): void;
}

/** The pinned esbuild (package.json), whose plugins map one layer's imports onto another's file. */
function loadEsbuild(root: string): {
  build(options: Record<string, unknown>): Promise<unknown>;
  stop(): void;
} {
  return createRequire(join(root, "package.json"))("esbuild");
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
