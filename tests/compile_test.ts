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
