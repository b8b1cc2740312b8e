/**
 * The consumer test: packs the npm build (npm/, from scripts/build_npm.ts)
 * with `npm pack`, installs the tarball into a scratch project as a user
 * would, and proves it there: an ESM script, a CommonJS `require` (on the
 * Node versions that support require(esm): 20.19+, 22.12+), a TypeScript
 * type-check with `moduleResolution` `nodenext` and `bundler` (the README's
 * Node examples included), and the `eyeballs` bin.
 *
 *   deno run -A scripts/consumer_test.ts [--junit <file>] [--node <path>]...
 *
 * Each `--node` is one Node binary to run the scripts and the bin with
 * (default: `node` on PATH). Prints one line per check; non-zero exit on
 * any failure.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsBlocks } from "./check_readme.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const decoder = new TextDecoder();

/** One check's outcome. */
interface Result {
  name: string;
  ok: boolean;
  skipped?: boolean;
  detail?: string;
}

/** Runs a command; returns its exit code and output. */
async function exec(
  cmd: string,
  args: string[],
  cwd: string,
  env?: Record<string, string>,
): Promise<{ code: number; out: string; stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, { args, cwd, env, stdin: "null" }).output();
  return { code, out: decoder.decode(stdout) + decoder.decode(stderr), stdout: decoder.decode(stdout) };
}

/**
 * An ESM consumer: every subpath of the package's `exports` by name (each
 * must export something), a connect with the Node adapter and with the
 * socket. The package is bundled: `./node` must resolve to one entry file
 * under dist/ with no per-file modules beside it (dist/src/connect/connect.js is not shipped).
 */
const ESM = `import * as core from "@eyeballs/connect";
import { connect } from "@eyeballs/connect/node";
import { connect as socketConnect } from "@eyeballs/connect/socket";
import { main } from "@eyeballs/connect/cli"; // must not run the CLI
import "@eyeballs/connect/bun";
import "@eyeballs/connect/node/clients";
import "@eyeballs/connect/bun/clients";
import net from "node:net";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const pkg = createRequire(import.meta.url)("@eyeballs/connect/package.json");
for (const key of Object.keys(pkg.exports).filter((k) => k !== "./package.json")) {
  const mod = await import(pkg.name + key.slice(1));
  if (Object.keys(mod).length === 0) throw new Error(key + " exports nothing");
}
const nodeEntry = new URL(import.meta.resolve("@eyeballs/connect/node"));
if (!nodeEntry.pathname.endsWith("/dist/src/adapters/node/mod.js") || existsSync(new URL("../../connect/connect.js", nodeEntry))) {
  throw new Error("./node is not the bundled entry: " + nodeEntry.pathname);
}
const server = net.createServer((s) => s.on("error", () => {}).end("hi\\n"));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;
const socket = await connect({ host: "127.0.0.1", port });
socket.destroy();
const web = socketConnect({ hostname: "127.0.0.1", port });
let text = "";
for await (const chunk of web.readable) text += new TextDecoder().decode(chunk);
await web.closed;
server.close();
if (text !== "hi\\n" || typeof core.connect !== "function" || typeof main !== "function") throw new Error("bad");
console.log("esm ok", pkg.version, process.version);
`;

/** A CommonJS consumer (require of an ESM-only package): every subpath, then a connect. */
const CJS = `const pkg = require("@eyeballs/connect/package.json");
for (const key of Object.keys(pkg.exports).filter((k) => k !== "./package.json")) {
  if (Object.keys(require(pkg.name + key.slice(1))).length === 0) throw new Error(key + " exports nothing");
}
const core = require("@eyeballs/connect");
const { connect } = require("@eyeballs/connect/node");
const { connect: socketConnect } = require("@eyeballs/connect/socket");
const { main } = require("@eyeballs/connect/cli");
const net = require("node:net");
const server = net.createServer((s) => s.on("error", () => {}).end());
server.listen(0, "127.0.0.1", async () => {
  const socket = await connect({ host: "127.0.0.1", port: server.address().port });
  socket.destroy();
  server.close();
  if (typeof core.halving !== "function" || typeof socketConnect !== "function" || typeof main !== "function") {
    throw new Error("bad");
  }
  console.log("cjs ok", process.version);
});
`;

/**
 * A program a user bundles with esbuild: it imports only the Node adapter's \`connect\`. The bundle must leave out
 * what it does not use (\`sideEffects: false\` is honest): the socket API, the CLI, the client shims, TLS.
 */
const BUNDLED_APP = `import { connect } from "@eyeballs/connect/node";
const socket = await connect({ host: "127.0.0.1", port: Number(process.argv[2]) });
socket.destroy();
console.log("bundled ok");
`;

/** Text only the parts a /node connect does not use carry, each naming the part. */
const NOT_IN_A_CONNECT_BUNDLE: Record<string, string> = {
  "the socket API": "secureTransport must be",
  "the CLI": "--max-attempts-in-flight",
  "the HTTP agents": "EyeballsHttpsAgent",
  "TLS": "TlsHandshakeError",
};

/** A TypeScript consumer: the public types, as a user's editor sees them. */
const TYPES = `import { connect as coreConnect, ConnectError, type Dialer, halving } from "@eyeballs/connect";
import { connect } from "@eyeballs/connect/node";
import { connect as bunConnect } from "@eyeballs/connect/bun";
import { connect as socketConnect, type Socket, type SocketInfo } from "@eyeballs/connect/socket";
import { main } from "@eyeballs/connect/cli";
import type net from "node:net";

export async function demo(): Promise<void> {
  const socket: net.Socket = await connect({ host: "example.com", port: 443, schedule: halving(500) });
  const other: net.Socket = await bunConnect({ hostname: "example.com", port: 443 });
  const web: Socket = socketConnect({ hostname: "example.com", port: 443 }, { allowHalfOpen: true });
  const info: SocketInfo = await web.opened;
  const dialer: Dialer<string> = { dial: (t) => Promise.resolve(t.address), close: () => {} };
  const { conn } = await coreConnect({ hostname: "192.0.2.1", port: 80, dialer });
  const status: number = await main(["--version"]);
  console.log(socket, other, info.remoteAddress, conn, status, ConnectError);
}
`;

/**
 * A TypeScript file that imports each subpath's types by the package's name:
 * each `.d.ts` must resolve. Not `./deno`: its types name the `Deno`
 * namespace, which a Node project does not have (as the README's Deno examples are left out).
 */
function everyExport(keys: string[]): string {
  const subpaths = keys.filter((k) => k !== "./package.json" && !/^\.\/deno(\/|$)/.test(k));
  return subpaths.map((k, i) => `import * as e${i} from "@eyeballs/connect${k.slice(1)}";`).join("\n") +
    `\nexport const modules: object[] = [${subpaths.map((_, i) => `e${i}`).join(", ")}];\n`;
}

async function main(): Promise<number> {
  const args = Deno.args;
  const junit = args.includes("--junit") ? args[args.indexOf("--junit") + 1] : undefined;
  const nodes = args.flatMap((a, i) => (args[i - 1] === "--node" ? [a] : []));
  if (nodes.length === 0) nodes.push("node");
  const results: Result[] = [];
  const record = (result: Result) => {
    results.push(result);
    const mark = result.skipped ? "skip" : result.ok ? "ok  " : "FAIL";
    console.log(`${mark} ${result.name}${result.ok && !result.detail ? "" : `\n${result.detail ?? ""}`}`);
  };

  const tmp = await Deno.makeTempDir({ prefix: "eyeballs-consumer-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })().catch(() => {});
  try {
    const pack = await exec(
      "npm",
      ["pack", join(root, "npm"), "--pack-destination", tmp, "--json", "--ignore-scripts"],
      tmp,
    );
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.out}`);
    const tarball = join(tmp, JSON.parse(pack.stdout)[0].filename);
    const project = join(tmp, "project");
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2),
    );
    const install = await exec(
      "npm",
      ["install", tarball, "--ignore-scripts", "--no-audit", "--no-fund", "--offline"],
      project,
    );
    record({ name: "npm install <tarball>", ok: install.code === 0, detail: install.code ? install.out : undefined });
    if (install.code !== 0) return 1;
    await Deno.writeTextFile(join(project, "esm.mjs"), ESM);
    await Deno.writeTextFile(join(project, "cjs.cjs"), CJS);
    const manifest = JSON.parse(await Deno.readTextFile(join(root, "npm", "package.json")));
    const version = manifest.version;
    const bin = join(project, "node_modules", ".bin", "eyeballs");

    for (const node of nodes) {
      const v = (await exec(node, ["--version"], project)).out.trim();
      // The bin's shebang is `env node`: this version comes first on PATH.
      const nodeDir = join(tmp, `bin-${v}`);
      await Deno.mkdir(nodeDir, { recursive: true });
      await Deno.symlink(node, join(nodeDir, "node")).catch(() => {});
      const env = { PATH: `${nodeDir}:${Deno.env.get("PATH") ?? ""}` };

      const esm = await exec(node, ["esm.mjs"], project, env);
      record({
        name: `${v} ESM import`,
        ok: esm.code === 0 && esm.out.includes(`esm ok ${version} ${v}`),
        detail: esm.out,
      });
      const [major, minor] = v.slice(1).split(".").map(Number);
      if ((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22) {
        const cjs = await exec(node, ["cjs.cjs"], project, env);
        record({
          name: `${v} CommonJS require`,
          ok: cjs.code === 0 && cjs.out.includes(`cjs ok ${v}`),
          detail: cjs.out,
        });
      } else {
        record({ name: `${v} CommonJS require`, ok: true, skipped: true, detail: "require(esm) needs 20.19 / 22.12" });
      }
      const shown = await exec(bin, ["--version"], project, env);
      const help = await exec(bin, ["--help"], project, env);
      const port = (listener.addr as Deno.NetAddr).port;
      const connected = await exec(bin, ["--json", "127.0.0.1", String(port)], project, env);
      let address = "";
      try {
        address = JSON.parse(connected.out.trim().split("\n").pop()!).address;
      } catch { /* not JSON: reported below */ }
      record({
        name: `${v} bin eyeballs (--version, --help, a connect)`,
        ok: shown.out.trim() === version && /Exit status/i.test(help.out) && connected.code === 0 &&
          address === "127.0.0.1",
        detail: `${shown.out}${connected.out}`,
      });
    }

    // A user's bundler: esbuild (pinned in package.json) tree-shakes one entry, and the bundle still connects.
    await Deno.writeTextFile(join(project, "app.mjs"), BUNDLED_APP);
    const esbuild = join(root, "node_modules", "esbuild", "bin", "esbuild");
    const built = await exec(
      esbuild,
      [
        "app.mjs",
        "--bundle",
        "--platform=node",
        "--format=esm",
        "--outfile=app.bundle.mjs",
        "--log-level=error",
      ],
      project,
    );
    const bundled = built.code === 0 ? await Deno.readTextFile(join(project, "app.bundle.mjs")) : "";
    const kept = Object.entries(NOT_IN_A_CONNECT_BUNDLE).filter(([, text]) => bundled.includes(text)).map(([p]) => p);
    const ran = built.code === 0
      ? await exec(nodes[0], ["app.bundle.mjs", String((listener.addr as Deno.NetAddr).port)], project)
      : { code: 1, out: built.out };
    record({
      name: `esbuild bundle of a /node connect (${bundled.length} bytes): tree-shaken, and it connects`,
      ok: built.code === 0 && kept.length === 0 && ran.code === 0 && ran.out.includes("bundled ok"),
      detail: built.code ? built.out : kept.length ? `kept what it does not use: ${kept.join(", ")}` : ran.out,
    });

    // The README's examples that a Node user would paste (not the Deno ones).
    const readme = tsBlocks(await Deno.readTextFile(join(root, "README.md")))
      .filter((b) => !/\bDeno\.|@eyeballs\/connect\/deno/.test(b.code));
    const files = ["types.ts", "every_export.ts"];
    await Deno.writeTextFile(join(project, "types.ts"), TYPES);
    await Deno.writeTextFile(join(project, "every_export.ts"), everyExport(Object.keys(manifest.exports)));
    for (const [i, block] of readme.entries()) {
      await Deno.writeTextFile(join(project, `readme_${i}.ts`), `export {};\n${block.code}`);
      files.push(`readme_${i}.ts`);
    }
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    for (const [module, resolution] of [["nodenext", "nodenext"], ["preserve", "bundler"]]) {
      const config = {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023", "DOM"],
          module,
          moduleResolution: resolution,
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
        },
        files,
      };
      await Deno.writeTextFile(join(project, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2));
      const checked = await exec(nodes[0], [tsc, "-p", `tsconfig.${resolution}.json`], project);
      record({
        name: `tsc moduleResolution ${resolution} (${files.length} files, ${readme.length} from README)`,
        ok: checked.code === 0,
        detail: checked.code ? checked.out : undefined,
      });
    }
  } catch (error) {
    record({ name: "consumer test", ok: false, detail: String(error) });
  } finally {
    listener.close();
    await accepting;
    await Deno.remove(tmp, { recursive: true });
  }
  if (junit) await Deno.writeTextFile(junit, toJUnit(results));
  return results.every((r) => r.ok) ? 0 : 1;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/** The results as a JUnit report, which scripts/test.ts counts. */
function toJUnit(results: Result[]): string {
  const cases = results.map((r) => {
    const name = `name="${escapeXml(r.name)}"`;
    if (r.skipped) return `  <testcase ${name}><skipped/></testcase>`;
    if (!r.ok) return `  <testcase ${name}><failure message="${escapeXml(r.detail ?? "")}"/></testcase>`;
    return `  <testcase ${name}/>`;
  });
  return `<?xml version="1.0"?>\n<testsuites><testsuite name="consumer">\n${
    cases.join("\n")
  }\n</testsuite></testsuites>\n`;
}

if (import.meta.main) Deno.exit(await main());
