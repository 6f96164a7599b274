// The network side of SES through SNS: the signing certificates (fetched once per URL and kept)
// and the GET that confirms a subscription. Both URLs are checked by the caller (isSnsUrl).
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { Agent, request, type Dispatcher } from "undici";
import type { Config } from "../../config.ts";
import type { SesVerifier } from "./read-ses.ts";

const TIMEOUT_MS = 10_000;
const MAX_CERTIFICATE_BYTES = 64 * 1024;

export function createSesVerifier(config: Config["sns"]): SesVerifier {
  let dispatcher: Dispatcher | undefined;
  // Read at first use: SNS_CA_FILE matters only to an instance that receives SES mail.
  const agent = () =>
    (dispatcher ??= new Agent({
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      connect: { timeout: TIMEOUT_MS, ...(config.caFile ? { ca: [...rootCertificates, readFileSync(config.caFile, "utf8")] } : {}) },
    }));
  const certificates = new Map<string, Promise<X509Certificate>>();

  async function get(url: string, max: number): Promise<string> {
    const res = await request(url, { method: "GET", dispatcher: agent() });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${url} answered ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        res.body.destroy();
        throw new Error(`${url} answered more than ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  return {
    certificateBase: config.certUrlBase,
    certificate(url) {
      let cached = certificates.get(url);
      if (!cached) {
        cached = get(url, MAX_CERTIFICATE_BYTES).then((pem) => new X509Certificate(pem));
        // A failed fetch is not kept: the next message tries again.
        cached.catch(() => certificates.delete(url));
        certificates.set(url, cached);
      }
      return cached;
    },
    async confirm(url) {
      await get(url, MAX_CERTIFICATE_BYTES);
    },
  };
}
