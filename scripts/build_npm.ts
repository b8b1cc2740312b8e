/**
 * Builds the npm package `@eyeballs/connect` into `npm/` and proves it works
 * on Node by running the whole test suite against it.
 *
 *   deno run -A scripts/build_npm.ts [--junit <file>] [--no-test] [--no-build]
 *                                    [--node <path>] [--skip <dir>]...
 *
 * `--node` names the Node binary that runs the tests (default: the first
 * `node` on PATH; scripts/test.ts passes each pinned version by absolute
 * path). `--no-build` reuses npm/ and npm_test/ from an earlier build.
 * `--skip tests/lab` leaves out the compiled tests under that folder.
 *
 * Steps: one `tsc` program (the TypeScript pinned in package.json, with
 * `rewriteRelativeImportExtensions`) compiles mod.ts, src/** and tests/** to
 * `npm_test/`, one JS file per source, where the Node test suite runs (it
 * imports internal modules such as src/race/race.js). Then scripts/bundle.ts
 * bundles each published entry point (deno.json `exports`, plus the bin) into
 * `npm/dist/`: an entry file at its source's path that re-exports from the
 * layer files under `dist/_layers/`, so Node and Bun load two to four files
 * instead of ~40; the source maps keep their mappings but not the sources. tsc's `.d.ts` files,
 * one per source, are copied beside them; package.json's `exports` point
 * `types` at those and `default` at the bundled files.
 *
 * So the tests run tsc's per-file JS of the same sources, not the published
 * bundle (a test mixing a bundled class with a per-file copy would break
 * `instanceof`). The bundle is proven here (every export imported by the
 * package's name on Node; a class exported by two entry points is one class;
 * the packed JS is exactly what the entries load) and by
 * scripts/consumer_test.ts (install, import, require, connect, bin, tsc).
 * `npm_test/` is never part of the package (and is git-ignored).
 *
 * Exit status: non-zero if compiling, packing or any Node test failed.
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN_SOURCE, bundle, bundledPath, entryPoints, listFiles, reachableFrom } from "./bundle.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "npm");
/** Every built file of the package sits under this folder of npm/, beside package.json and the docs. */
const DIST = "dist";
const distDir = join(outDir, DIST);
const testDir = join(root, "npm_test");

/** The command line: see the module comment. */
interface BuildArgs {
  junit?: string;
  runTests: boolean;
  build: boolean;
  node: string;
  skip: string[];
}

/** Parses the command line. */
function parseArgs(args: string[]): BuildArgs {
  const valueOf = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  return {
    junit: valueOf("--junit"),
    runTests: !args.includes("--no-test"),
    build: !args.includes("--no-build"),
    node: valueOf("--node") ?? "node",
    skip: args.flatMap((a, i) => (args[i - 1] === "--skip" ? [a.replace(/\/$/, "")] : [])),
  };
}

/** Runs a command with inherited stdio and returns its exit code. */
async function run(cmd: string, args: string[], cwd = root): Promise<number> {
  const { code } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

/** Lists files under `dir` (relative to root) whose names pass `keep`. */
function walk(dir: string, keep: (name: string) => boolean): string[] {
  const found: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(root, dir))];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return found;
    throw e;
  }
  for (const entry of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory) found.push(...walk(rel, keep));
    else if (entry.isFile && keep(entry.name)) found.push(rel);
  }
  return found;
}

const isTs = (name: string) => name.endsWith(".ts") && !name.endsWith(".d.ts");

/**
 * Writes the `Deno` namespace types of the pinned deno into `dir`, so that
 * tsc can check the Deno adapter. Deno's own `lib` references are dropped:
 * tsc does not know them, and the build picks its libs explicitly.
 */
async function writeDenoTypes(dir: string): Promise<string> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["types"],
    stdout: "piped",
  }).output();
  if (code !== 0) throw new Error("`deno types` failed");
  const text = new TextDecoder().decode(stdout)
    .replace(/^\/\/\/ <reference (lib|no-default-lib)=.*$/gm, "");
  const file = join(dir, "lib.deno.d.ts");
  await Deno.writeTextFile(file, text);
  return file;
}

/** Compiles mod.ts, src/** and tests/** into npm_test/ with tsc. */
async function compile(tmp: string): Promise<void> {
  const files = [
    "mod.ts",
    ...walk("src", isTs),
    ...walk("tests", isTs),
  ].map((f) => join(root, f));
  files.push(await writeDenoTypes(tmp));

  // Written per build rather than committed: it names the temp Deno types.
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      rewriteRelativeImportExtensions: true,
      strict: true,
      declaration: true,
      // Maps with their sources inlined: stack traces point at the TypeScript, which is not shipped.
      sourceMap: true,
      inlineSources: true,
      // Deno's and Node's global types overlap; neither is ours to check.
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      rootDir: root,
      outDir: testDir,
      newLine: "lf",
    },
    files,
  };
  const config = join(tmp, "tsconfig.json");
  await Deno.writeTextFile(config, JSON.stringify(tsconfig, null, 2));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  if (await run("node", [tsc, "-p", config]) !== 0) {
    throw new Error("tsc failed (see errors above)");
  }
}

/** Puts the tests' fixtures (lab helpers, data) beside their JS in npm_test/, which is ESM. */
async function prepareTests(): Promise<void> {
  for (const file of walk("tests", (name) => !isTs(name))) {
    await Deno.mkdir(dirname(join(testDir, file)), { recursive: true });
    await Deno.copyFile(join(root, file), join(testDir, file));
  }
  await Deno.writeTextFile(
    join(testDir, "package.json"),
    JSON.stringify({ private: true, type: "module" }, null, 2) + "\n",
  );
}

/** Copies tsc's declarations of the library (mod.d.ts and every .d.ts under src/) into npm/dist/. */
async function copyDeclarations(): Promise<void> {
  const relTest = relative(root, testDir);
  const files = [
    "mod.d.ts",
    ...walk(join(relTest, "src"), (n) => n.endsWith(".d.ts")).map((f) => relative(relTest, f)),
  ];
  for (const file of files) {
    await Deno.mkdir(dirname(join(distDir, file)), { recursive: true });
    await Deno.copyFile(join(testDir, file), join(distDir, file));
  }
}

/**
 * Points relative `.ts` specifiers in the emitted `.d.ts` files at `.js`:
 * tsc rewrites them only in JS, and older TypeScript consumers need `.js`.
 */
async function rewriteDeclarations(dir: string): Promise<void> {
  const relTs = /((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']*)\.ts\2/g;
  for (const file of walk(relative(root, dir), (n) => n.endsWith(".d.ts"))) {
    const path = join(root, file);
    const text = await Deno.readTextFile(path);
    const fixed = text.replace(relTs, "$1$2$3.js$2");
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
  }
}

/** Gives the CLI a Node shebang and the executable bit, as npm `bin` needs. */
async function prepareCli(cliPath: string): Promise<void> {
  const file = join(outDir, cliPath);
  const body = (await Deno.readTextFile(file)).replace(/^#!.*\n/, "");
  await Deno.writeTextFile(file, "#!/usr/bin/env node\n" + body);
  await Deno.chmod(file, 0o755);
}

/**
 * What the package says about itself. There is no public source repository
 * yet: `repository` and `bugs` are copied from the development package.json
 * once it has them; until then the homepage is the JSR page.
 */
const KEYWORDS = [
  "happy-eyeballs",
  "rfc8305",
  "rfc6555",
  "ipv6",
  "dual-stack",
  "tcp",
  "connect",
  "socket",
  "sockets-api",
  "deno",
  "bun",
  "node",
];

/**
 * Node versions the package supports: it is ESM-only, and `require()` of
 * ESM works unflagged only from 20.19 and 22.12 (the versions tested are
 * 20, 22 and 24).
 */
const NODE_ENGINES = "^20.19.0 || >=22.12.0";

/** An entry's files in npm/: its bundled JS and tsc's declaration beside it. */
function entryFiles(source: string): { types: string; default: string } {
  const js = packagePath(source);
  return { types: `./${js.replace(/\.js$/, ".d.ts")}`, default: `./${js}` };
}

/** Where a source's bundled JS sits in the package, from its root: `dist/src/...js`. */
function packagePath(source: string): string {
  return `${DIST}/${bundledPath(source.replace(/^\.\//, ""))}`;
}

/**
 * Keeps the source maps small: their file and line mapping stays, the copies of the sources they carry go (the
 * package ships no TypeScript for them to show).
 */
async function trimSourceMaps(): Promise<void> {
  for (const file of listFiles(distDir).filter((f) => f.endsWith(".js.map"))) {
    const path = join(distDir, file);
    const map = JSON.parse(await Deno.readTextFile(path));
    delete map.sourcesContent;
    await Deno.writeTextFile(path, JSON.stringify(map));
  }
}

/**
 * Writes npm/package.json from deno.json, plus README and LICENSE. `files`
 * names what npm/ holds when this runs: only the bundle and the declarations.
 * Returns the bin's path.
 */
async function writeManifest(): Promise<{ cli: string }> {
  const deno = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const dev = JSON.parse(await Deno.readTextFile(join(root, "package.json")));
  const exports: Record<string, { types: string; default: string } | string> = {};
  for (const { key, source } of entryPoints(root).filter((e) => e.key !== "bin")) exports[key] = entryFiles(source);
  exports["./package.json"] = "./package.json";
  const main = entryFiles(deno.exports["."]);
  // npm wants bin paths without "./" (it rewrites them and warns otherwise).
  const cli = packagePath(BIN_SOURCE);
  const files = [...new Set(listFiles(outDir).map((f) => f.includes("/") ? `${f.split("/")[0]}/` : f))];
  const manifest = {
    name: deno.name,
    version: deno.version,
    description: "Happy Eyeballs (RFC 8305) connection racing for Deno, Bun and Node: one connect, one socket, a CLI.",
    keywords: KEYWORDS,
    homepage: `https://jsr.io/${deno.name}`,
    ...(dev.repository ? { repository: dev.repository } : {}),
    ...(dev.bugs ? { bugs: dev.bugs } : {}),
    ...(deno.license ? { license: deno.license } : {}),
    type: "module",
    sideEffects: false,
    main: main.default,
    types: main.types,
    exports,
    bin: { eyeballs: cli },
    files,
    engines: { node: NODE_ENGINES },
  };
  await Deno.writeTextFile(
    join(outDir, "package.json"),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  for (const doc of ["README.md", "LICENSE"]) {
    try {
      await Deno.copyFile(join(root, doc), join(outDir, doc));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { cli };
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks npm what it would pack and fails unless it is exactly the bundled JS
 * the entry points load (with their maps), the declarations, the manifest
 * and the docs: no tests, no per-file JS that nothing imports.
 */
async function checkPack(cli: string): Promise<void> {
  const { code, stdout } = await new Deno.Command("npm", {
    args: ["pack", "--dry-run", "--json", "--ignore-scripts"],
    cwd: outDir,
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error("npm pack --dry-run failed");
  const [info] = JSON.parse(new TextDecoder().decode(stdout));
  const packed = new Set<string>(info.files.map((f: { path: string }) => f.path));
  const tests = [...packed].filter((p) => /(^|\/)tests?\/|\.test\.js$/.test(p));
  if (tests.length) throw new Error(`package would ship tests: ${tests.join(", ")}`);
  if (!packed.has(cli)) throw new Error(`package lacks its bin ${cli}`);
  const loaded = reachableFrom(outDir, entryPoints(root).map((e) => packagePath(e.source)));
  const expected = new Set([
    ...loaded,
    ...[...loaded].map((f) => `${f}.map`).filter((f) => existsSync(join(outDir, f))),
    ...listFiles(outDir).filter((f) => f.endsWith(".d.ts")),
    ...["package.json", "README.md", "LICENSE"].filter((f) => existsSync(join(outDir, f))),
  ]);
  const extra = [...packed].filter((f) => !expected.has(f));
  const lacking = [...expected].filter((f) => !packed.has(f));
  if (extra.length) throw new Error(`package would ship files nothing loads: ${extra.join(", ")}`);
  if (lacking.length) throw new Error(`package lacks: ${lacking.join(", ")}`);
  const js = [...packed].filter((f) => f.endsWith(".js"));
  console.log(
    `npm pack: ${info.name}@${info.version}, ${packed.size} files (${js.length} JS), ${info.size} bytes packed, ${info.unpackedSize} unpacked`,
  );
}

/**
 * Imports every export by the package's own name on Node, so the `exports`
 * map itself is proven, not just the files. `./cli` included: importing it
 * must not run the CLI (which would exit the process). A class exported
 * under one name by two entry points must be one class: the bundle shares
 * it through a chunk instead of copying it into each entry.
 */
async function checkImports(node: string): Promise<void> {
  const manifest = JSON.parse(
    await Deno.readTextFile(join(outDir, "package.json")),
  );
  const specifiers = Object.keys(manifest.exports)
    .filter((key) => key !== "./package.json")
    .map((key) => manifest.name + key.slice(1));
  const script = `const classes = new Map();
  for (const s of ${JSON.stringify(specifiers)}) {
    const mod = await import(s);
    if (Object.keys(mod).length === 0) throw new Error(s + " exports nothing");
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== "function" || !/^class\\b/.test(Function.prototype.toString.call(value))) continue;
      const seen = classes.get(name);
      if (seen && seen.value !== value) throw new Error(name + " from " + s + " is a copy of the one from " + seen.s);
      classes.set(name, { value, s });
    }
  }
  console.log("imported ${specifiers.length} exports, " + classes.size + " classes, each one object");`;
  if (await run(node, ["--input-type=module", "-e", script], outDir) !== 0) {
    throw new Error(`importing ${specifiers.join(", ")} on Node failed`);
  }
}

/** Runs every compiled test file (but those under `skip`) with node --test; returns the exit code. */
async function runNodeTests(node: string, skip: string[], junit?: string): Promise<number> {
  const skipped = skip.map((dir) => join(relative(root, testDir), dir) + "/");
  const files = walk(relative(root, testDir), (n) => n.endsWith(".test.js"))
    .filter((f) => !skipped.some((dir) => f.startsWith(dir)));
  if (skipped.length) console.log(`build_npm: leaving out ${skip.join(", ")}`);
  if (files.length === 0) {
    console.error("build_npm: no compiled *.test.js files to run");
    return 1;
  }
  // Node 20 takes no globs, so the files are listed; spec keeps it readable.
  // One file at a time, as on Deno and Bun: lab tests share namespaces.
  const reporters = [
    "--test-concurrency=1",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
  ];
  if (junit) {
    reporters.push(
      "--test-reporter=junit",
      `--test-reporter-destination=${junit}`,
    );
  }
  return await run(node, ["--test", ...reporters, ...files]);
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  const { stdout } = await new Deno.Command(args.node, { args: ["--version"], stdout: "piped" }).output();
  console.log(`build_npm: Node ${new TextDecoder().decode(stdout).trim()} (${args.node})`);
  if (!args.build) {
    await checkImports(args.node);
    return args.runTests ? await runNodeTests(args.node, args.skip, args.junit) : 0;
  }
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.remove(testDir, { recursive: true }).catch(() => {});
  const tmp = await Deno.makeTempDir({ prefix: "eyeballs-build-" });
  try {
    await compile(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  await prepareTests();
  const entries = entryPoints(root);
  const missing = entries.filter((e) => !existsSync(join(root, e.source)));
  if (missing.length === 0) {
    await bundle(root, entries.map((e) => e.source), distDir);
    await trimSourceMaps();
    await copyDeclarations();
    await rewriteDeclarations(outDir);
    const { cli } = await writeManifest();
    await prepareCli(cli);
    await checkPack(cli);
    await checkImports(args.node);
    console.log(`built ${relative(root, outDir)}/`);
  }
  // Still run the tests on an incomplete build: their results stay useful.
  const code = args.runTests ? await runNodeTests(args.node, args.skip, args.junit) : 0;
  if (missing.length) {
    console.error(
      `build_npm: deno.json exports missing sources: ${missing.map((e) => `${e.key} -> ${e.source}`).join(", ")}`,
    );
    return 1;
  }
  return code;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`build_npm: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
