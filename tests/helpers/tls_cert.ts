/** A self-signed certificate for 127.0.0.1 and localhost, and its key, as files. */
export interface TestCertificate {
  /** The PEM certificate file. */
  certFile: string;
  /** The PEM private key file. */
  keyFile: string;
  /** The certificate's PEM text, for a client to trust. */
  pem: string;
  /** Removes the files. */
  remove(): Promise<void>;
}

/**
 * Makes a self-signed certificate with `openssl req -x509` in a new temporary directory. It is
 * marked as no CA: rustls refuses a CA certificate as the server's own.
 */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "memrelay-tls-" });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const { success, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl req failed: ${new TextDecoder().decode(stderr)}`);
  return {
    certFile,
    keyFile,
    pem: await Deno.readTextFile(certFile),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
