import assert from "node:assert/strict";

Deno.test("deno task compile builds a binary that runs, or says plainly why it cannot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = `${dir}/memrelay`;
    const script = new URL("../scripts/compile.ts", import.meta.url).pathname;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", script, output],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code === 0) {
      const version = await new Deno.Command(output, { args: ["--version"] }).output();
      assert.match(new TextDecoder().decode(version.stdout), /^memrelay \d+\.\d+\.\d+\n$/);
    } else {
      assert.equal(code, 3, new TextDecoder().decode(stderr));
      assert.match(new TextDecoder().decode(stderr), /could not download Deno's runtime/);
      assert.match(new TextDecoder().decode(stderr), /DENORT_BIN=/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the start task, the README's deno run lines and the compile script use the same V8 flags and --allow-ffi", async () => {
  const { V8_FLAGS } = await import("../scripts/v8_flags.ts");
  const root = new URL("..", import.meta.url);
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.ok(denoJson.tasks.start.includes(V8_FLAGS), "deno.json's start task");
  assert.ok(denoJson.tasks.start.includes("--allow-ffi"), "deno.json's start task: --allow-ffi");
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const runLines = readme.split("\n").filter((line) => /deno run .*--allow-net/.test(line));
  assert.ok(runLines.length > 0);
  for (const line of runLines) {
    const command = line.endsWith("\\") ? line + readme.split(line)[1].split("\n")[1] : line;
    assert.ok(command.includes(V8_FLAGS), `README: ${line.trim()}`);
    assert.ok(command.includes("--allow-ffi"), `README, --allow-ffi: ${line.trim()}`);
  }
  const compile = await Deno.readTextFile(new URL("scripts/compile.ts", root));
  assert.ok(compile.includes("V8_FLAGS,"), "scripts/compile.ts passes V8_FLAGS");
  assert.ok(compile.includes('"--allow-ffi"'), "scripts/compile.ts grants --allow-ffi");
});
