/**
 * Compiles the bench's runners (and the library sources they import) to
 * JavaScript for Node 20, which cannot run TypeScript. Same compiler and
 * module settings as scripts/build_npm.ts, but into a private temporary
 * directory: npm/ belongs to the build and may be rebuilt while we measure.
 *
 * Then, as the npm package does, each published entry point is bundled
 * (scripts/bundle.ts) and its bundle replaces tsc's file at the same path:
 * a runner that imports `src/adapters/node/mod.js` (the first-connect,
 * overhead and scale runners) loads what npm users load. Modules that are
 * not entry points stay per file, for the runners that import them directly
 * (dns_runner.ts hands its own resolvers to the bundled `connect`: they are
 * plain objects, so the two copies of the code do not meet in an `instanceof`).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { bundle, entryPoints } from "../scripts/bundle.ts";

/** Where the compiled runners are, and how to remove them. */
export interface NodeBuild {
  /** Absolute path of the compiled `bench/` directory. */
  readonly benchDir: string;
  /** Deletes everything the build wrote. */
  remove(): Promise<void>;
}

/**
 * Runs the pinned `tsc` on the runners (`bench/client.ts`, `overhead.ts`, `order.ts`) from
 * `root`. Type checking is off (`noCheck`): the runners reach Deno's and
 * Bun's globals dynamically, and the library is type-checked by its own build.
 * Then bundles the library's entry points over tsc's files (see the module comment).
 */
export async function buildForNode(root: string): Promise<NodeBuild> {
  const tmp = await Deno.makeTempDir({ prefix: "eyeballs-bench-" });
  const remove = () => Deno.remove(tmp, { recursive: true }).catch(() => {});
  try {
    const out = join(tmp, "out");
    const config = {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        rewriteRelativeImportExtensions: true,
        noCheck: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        rootDir: root,
        outDir: out,
      },
      files: [
        "client.ts",
        "overhead.ts",
        "order.ts",
        "dns_runner.ts",
        "scale_runner.ts",
        "first_runner.ts",
        "hev3_client.ts",
      ].map((f) => join(root, "bench", f)),
    };
    const configPath = join(tmp, "tsconfig.json");
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    const { code, stdout, stderr } = await new Deno.Command("node", {
      args: [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", configPath],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      throw new Error(`tsc failed:\n${text}`);
    }
    // ESM for Node: the emitted .js files use import/export.
    await Deno.writeTextFile(join(out, "package.json"), '{"type":"module"}\n');
    const bundled = join(tmp, "bundled");
    const library = entryPoints(root).filter((e) => e.key !== "bin").map((e) => e.source);
    for (const file of await bundle(root, library, bundled)) {
      await Deno.mkdir(dirname(join(out, file)), { recursive: true });
      await Deno.copyFile(join(bundled, file), join(out, file));
    }
    return { benchDir: join(out, "bench"), remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
