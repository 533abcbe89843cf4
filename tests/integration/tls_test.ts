import assert from "node:assert/strict";
import { withCluster } from "../helpers/cluster.ts";
import { makeTestCertificate } from "../helpers/tls_cert.ts";
import { TextClient } from "../helpers/text_client.ts";

Deno.test("with --tls-cert and --tls-key clients are served over TLS, and a plain-text client is closed", async () => {
  const cert = await makeTestCertificate();
  try {
    await withCluster(
      { flags: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile] },
      async ({ proxy, primaries, direct }) => {
        const tls = await TextClient.connectTls(proxy.port, [cert.pem]);
        try {
          assert.equal(await tls.set("secret", "over tls"), "STORED\r\n");
          assert.equal(await tls.get("get secret"), "VALUE secret 0 8\r\nover tls\r\nEND\r\n");

          const plain = await TextClient.connect(proxy.port);
          await plain.write("get secret\r\n");
          const answer = await plain.readUntilClosed();
          plain.close();
          assert.ok(!answer.includes("VALUE"), "a plain-text client gets no data");

          assert.equal(await tls.call("delete secret"), "DELETED\r\n");
          assert.equal(await (await direct(primaries[0])).get("get secret"), "END\r\n");
        } finally {
          tls.close();
        }
      },
    );
  } finally {
    await cert.remove();
  }
});

Deno.test("a TLS key that does not exist stops the proxy from starting, saying which file", async () => {
  const cert = await makeTestCertificate();
  try {
    await assert.rejects(
      withCluster(
        { flags: ["--tls-cert", cert.certFile, "--tls-key", `${cert.keyFile}.missing`] },
        () => Promise.resolve(),
      ),
      { message: `cannot read the TLS private key ${cert.keyFile}.missing: no such file` },
    );
  } finally {
    await cert.remove();
  }
});
