import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/eventually.ts";
import { ReplyKind } from "../../lib/protocol/text/response_parser.ts";

Deno.test("meta writes reach the backup as plain commands, only where the primary took them", async () => {
  await withCluster({ primaries: 1, backups: 1 }, async ({ client, direct, backups }) => {
    const c = await client();
    const backup = await direct(backups[0]);
    const meta = async (line: string) => {
      await c.write(line);
      return await c.readReply(ReplyKind.Meta);
    };
    assert.match(await meta("ms m1 2 F7 T1000 c O5\r\nhi\r\n"), /^HD c\d+ O5\r\n$/);
    assert.equal(await meta("ms m1 1 MA\r\n!\r\n"), "HD\r\n");
    assert.equal(await meta("ms m1 1 ME\r\nx\r\n"), "NS\r\n");
    assert.equal(await meta("ms m2 1 C999 q\r\nx\r\nmn\r\n"), "NF\r\n");
    assert.equal(await c.readReply(ReplyKind.Meta), "MN\r\n");
    assert.equal(await meta("ma m3 N0 J5 v\r\n"), "VA 1\r\n5\r\n");
    assert.equal(await meta("ma m3 D10 v\r\n"), "VA 2\r\n15\r\n");
    await eventually(async () => {
      assert.equal(
        await backup.get("get m1 m2 m3"),
        "VALUE m1 7 3\r\nhi!\r\nVALUE m3 0 2\r\n15\r\nEND\r\n",
      );
    });
    assert.equal(await meta("md m1 q\r\nmn\r\n"), "MN\r\n");
    await eventually(async () => assert.equal(await backup.get("get m1"), "END\r\n"));
  });
});
