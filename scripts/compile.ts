/**
 * `deno task compile`: builds `./memrelay`, one executable with the proxy and its permissions
 * baked in. `deno compile` joins the program to Deno's runtime, `denort`, which it downloads
 * unless `DENORT_BIN` names a copy on disk; without internet access that download fails, and
 * this script says so plainly rather than with a DNS error.
 *
 * @module
 */

import { V8_FLAGS } from "./v8_flags.ts";

const output = Deno.args[0] ?? "memrelay";
const main = new URL("../main.ts", import.meta.url).pathname;
const { code, stderr } = await new Deno.Command(Deno.execPath(), {
  args: [
    "compile",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    V8_FLAGS,
    "--output",
    output,
    main,
  ],
  stdout: "inherit",
  stderr: "piped",
}).output();
const errors = new TextDecoder().decode(stderr);
if (code === 0) {
  console.log(`built ${output}: run ./${output} --help`);
  Deno.exit(0);
}
if (/denort/i.test(errors) && /(dns|connect|download|request)/i.test(errors)) {
  const version = Deno.version.deno;
  console.error(
    `deno compile could not download Deno's runtime (denort ${version}) to build ${output}:\n` +
      "this machine cannot reach dl.deno.land. Either build on a machine with internet access,\n" +
      `or fetch denort-<target>.zip for Deno ${version} from the Deno releases elsewhere, unzip\n` +
      "it here and run: DENORT_BIN=/path/to/denort deno task compile\n" +
      "Meanwhile, run memrelay with `deno task start <flags>`.",
  );
  Deno.exit(3);
}
console.error(errors);
Deno.exit(code);
