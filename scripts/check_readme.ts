/**
 * Type-checks every ```ts block of README.md (or of the files named) with
 * `deno check`, each block as its own module, with `@eyeballs/connect` and
 * its subpaths mapped to this checkout's exports (what `deno add
 * jsr:@eyeballs/connect` gives a user).
 *
 *   deno run -A scripts/check_readme.ts [file.md...]
 *
 * It also checks the links: README.md is read on npm and JSR, so every link
 * must be absolute, and a link to one of this package's files on JSR must
 * carry the current version and name a file that exists.
 *
 * Exit status: non-zero if a block does not type-check, none was found, or a
 * link is wrong.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The ```ts blocks of a markdown text, with the line each starts on.
 *
 * @example
 * ```ts
 * import { tsBlocks } from "./check_readme.ts";
 * tsBlocks("# x\n```ts\nconst a = 1;\n```\n"); // [{ line: 3, code: "const a = 1;\n" }]
 * ```
 */
export function tsBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return blocks;
}

/**
 * The import map a user's `deno add jsr:@eyeballs/connect` amounts to, pointing
 * at this checkout.
 *
 * @example
 * ```ts
 * import { packageImports } from "./check_readme.ts";
 * packageImports()["@eyeballs/connect/node"]; // "file:///…/src/adapters/node/mod.ts"
 * ```
 */
export function packageImports(): Record<string, string> {
  const deno = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")));
  const imports: Record<string, string> = {};
  for (const [key, path] of Object.entries(deno.exports as Record<string, string>)) {
    imports[deno.name + key.slice(1)] = pathToFileURL(join(root, path)).href;
  }
  return imports;
}

/**
 * What is wrong with the markdown links of `markdown`: relative links, and
 * links to this package's files on JSR at another version or to a missing file.
 *
 * @example
 * ```ts
 * import { badLinks } from "./check_readme.ts";
 * badLinks("[lab](docs/lab.md)"); // ["relative link docs/lab.md: README.md is read on npm and JSR"]
 * ```
 */
export function badLinks(markdown: string): string[] {
  const deno = JSON.parse(Deno.readTextFileSync(join(root, "deno.json")));
  const files = `https://jsr.io/${deno.name}/`;
  const problems: string[] = [];
  for (const [, target] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (!/^https?:\/\//.test(target)) {
      problems.push(`relative link ${target}: README.md is read on npm and JSR`);
      continue;
    }
    const versioned = /^(\d+\.\d+\.\d+[^/]*)\/(.+)$/.exec(target.startsWith(files) ? target.slice(files.length) : "");
    if (!versioned) continue;
    if (versioned[1] !== deno.version) problems.push(`${target}: not the current version ${deno.version}`);
    try {
      Deno.statSync(join(root, versioned[2]));
    } catch {
      problems.push(`${target}: no such file ${versioned[2]}`);
    }
  }
  return problems;
}

async function main(files: string[]): Promise<number> {
  const tmp = await Deno.makeTempDir({ prefix: "eyeballs-readme-" });
  try {
    const written: string[] = [];
    let linkProblems = 0;
    for (const file of files) {
      const text = await Deno.readTextFile(join(root, file));
      for (const problem of badLinks(text)) {
        console.error(`check_readme: ${file}: ${problem}`);
        linkProblems++;
      }
      const blocks = tsBlocks(text);
      for (const block of blocks) {
        const name = `${file.replace(/\W+/g, "_")}_line${block.line}.ts`;
        await Deno.writeTextFile(join(tmp, name), `// ${file}:${block.line}\n${block.code}`);
        written.push(name);
      }
    }
    if (written.length === 0) {
      console.error(`check_readme: no \`\`\`ts block in ${files.join(", ")}`);
      return 1;
    }
    await Deno.writeTextFile(
      join(tmp, "deno.json"),
      JSON.stringify({ imports: packageImports(), compilerOptions: { strict: true } }, null, 2),
    );
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", join(tmp, "deno.json"), ...written],
      cwd: tmp,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    console.log(
      `check_readme: ${written.length} blocks from ${files.join(", ")}: ${
        code === 0 && linkProblems === 0 ? "ok" : "FAILED"
      }`,
    );
    return code === 0 && linkProblems === 0 ? 0 : 1;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args.length ? Deno.args : ["README.md"]));
