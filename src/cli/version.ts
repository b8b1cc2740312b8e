/**
 * The version `eyeballs --version` prints. Kept equal to deno.json's
 * `version` by tests/cli/cli.test.ts, so it needs no file read at run time
 * and works the same from source, JSR and the npm build.
 *
 * @module
 */

/**
 * The package version.
 */
export const VERSION = "0.1.0";
