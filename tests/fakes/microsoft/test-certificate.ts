// The self-signed certificate of the loopback fakes (CN=localhost, SAN localhost and 127.0.0.1),
// generated once with openssl and committed (certs/). Tests trust it in addition to the public
// roots, through undici's global dispatcher: the one Node's fetch (and so the Graph client) uses.
// TLS verification stays on; NODE_EXTRA_CA_CERTS cannot be set once the process runs.
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates } from "node:tls";
import { fileURLToPath } from "node:url";
import { Agent, setGlobalDispatcher } from "undici";

const dir = new URL("./certs/", import.meta.url);

export const testCertificate = {
  cert: readFileSync(new URL("localhost.crt", dir), "utf8"),
  key: readFileSync(new URL("localhost.key", dir), "utf8"),
};

/** The certificate's file, for settings that take a path (SMTP_CA_FILE). */
export const testCertificateFile = fileURLToPath(new URL("localhost.crt", dir));

let trusted = false;

/** Makes this process's fetch accept the fakes' certificate (and still every public CA). */
export function trustTestCertificate(): void {
  if (trusted) return;
  // One secure context for every connection: with `ca` alone, each new connection would parse
  // the ~140 public roots again.
  const secureContext = createSecureContext({ ca: [...rootCertificates, testCertificate.cert] });
  setGlobalDispatcher(new Agent({ connect: { secureContext } }));
  trusted = true;
}
