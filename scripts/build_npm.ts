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
 * `npm_test/`; the library part is then moved to `npm/` and linked back, so
 * the compiled tests import exactly the files that would be published.
 * `npm_test/` is never part of the package (and is git-ignored).
 *
 * Exit status: non-zero if compiling, packing or any Node test failed.
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "npm");
const testDir = join(root, "npm_test");

/** Entry points of the library itself; everything else emitted is test code. */
const LIB_PATHS = ["mod.js", "mod.js.map", "mod.d.ts", "src"];

/** The bin, apart from `./cli` (importing that module must not run the CLI). */
const BIN_SOURCE = "src/cli/main.ts";

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

/** Moves the library files into npm/ and links them back into npm_test/. */
async function splitLibrary(): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  for (const path of LIB_PATHS) {
    await Deno.rename(join(testDir, path), join(outDir, path));
    await Deno.symlink(join("..", "npm", path), join(testDir, path));
  }
  // Fixtures next to tests (lab helpers, data) must sit beside the JS too.
  for (const file of walk("tests", (name) => !isTs(name))) {
    await Deno.mkdir(dirname(join(testDir, file)), { recursive: true });
    await Deno.copyFile(join(root, file), join(testDir, file));
  }
  await Deno.writeTextFile(
    join(testDir, "package.json"),
    JSON.stringify({ private: true, type: "module" }, null, 2) + "\n",
  );
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

/** Maps `./x.ts` to `./x.js` (and its `.d.ts`). */
function toJs(path: string): { types: string; default: string } {
  const base = path.replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, default: `${base}.js` };
}

/**
 * Writes npm/package.json from deno.json, plus README and LICENSE. Returns
 * the CLI path and the deno.json exports whose source file is missing.
 */
async function writeManifest(): Promise<{ cli: string; missing: string[] }> {
  const deno = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const dev = JSON.parse(await Deno.readTextFile(join(root, "package.json")));
  const exports: Record<string, { types: string; default: string } | string> = {};
  const missing: string[] = [];
  for (
    const [key, path] of Object.entries(deno.exports as Record<string, string>)
  ) {
    exports[key] = toJs(path);
    if (!existsSync(join(root, path))) missing.push(`${key} -> ${path}`);
  }
  exports["./package.json"] = "./package.json";
  const main = toJs(deno.exports["."]);
  // npm wants bin paths without "./" (it rewrites them and warns otherwise).
  const cli = toJs(BIN_SOURCE).default;
  if (!existsSync(join(root, BIN_SOURCE))) missing.push(`bin -> ${BIN_SOURCE}`);
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
    files: LIB_PATHS.filter((p) => p !== "src").concat(["src/"]),
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
  return { cli: cli.replace(/^\.\//, ""), missing };
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Asks npm what it would pack and fails on test files or missing targets. */
async function checkPack(cli: string): Promise<void> {
  const { code, stdout } = await new Deno.Command("npm", {
    args: ["pack", "--dry-run", "--json", "--ignore-scripts"],
    cwd: outDir,
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error("npm pack --dry-run failed");
  const [info] = JSON.parse(new TextDecoder().decode(stdout));
  const packed = new Set<string>(
    info.files.map((f: { path: string }) => f.path),
  );
  const tests = [...packed].filter((p) => /(^|\/)tests?\/|\.test\.js$/.test(p));
  if (tests.length) {
    throw new Error(`package would ship tests: ${tests.join(", ")}`);
  }
  if (!packed.has(cli)) throw new Error(`package lacks its bin ${cli}`);
  console.log(
    `npm pack: ${info.name}@${info.version}, ${packed.size} files, ${info.size} bytes`,
  );
}

/**
 * Imports every export by the package's own name on Node, so the `exports`
 * map itself is proven, not just the files. `./cli` included: importing it
 * must not run the CLI (which would exit the process).
 */
async function checkImports(node: string): Promise<void> {
  const manifest = JSON.parse(
    await Deno.readTextFile(join(outDir, "package.json")),
  );
  const specifiers = Object.keys(manifest.exports)
    .filter((key) => key !== "./package.json")
    .map((key) => manifest.name + key.slice(1));
  const script = `for (const s of ${JSON.stringify(specifiers)}) {
    if (Object.keys(await import(s)).length === 0) throw new Error(s + " exports nothing");
  }
  console.log("imported ${specifiers.length} exports");`;
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
  await splitLibrary();
  await rewriteDeclarations(outDir);
  const { cli, missing } = await writeManifest();
  if (missing.length === 0) {
    await prepareCli(cli);
    await checkPack(cli);
    await checkImports(args.node);
    console.log(`built ${relative(root, outDir)}/`);
  }
  // Still run the tests on an incomplete build: their results stay useful.
  const code = args.runTests ? await runNodeTests(args.node, args.skip, args.junit) : 0;
  if (missing.length) {
    console.error(
      `build_npm: deno.json exports missing sources: ${missing.join(", ")}`,
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
