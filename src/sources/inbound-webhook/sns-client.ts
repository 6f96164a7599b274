// The network side of SES through SNS: the signing certificates (fetched once per URL and kept)
// and the GET that confirms a subscription. Both URLs are checked by the caller (isSnsUrl).
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { Agent, request, type Dispatcher } from "undici";
import type { Config } from "../../config.ts";
import { AppError } from "../../errors.ts";
import type { SesVerifier } from "./read-ses.ts";

const TIMEOUT_MS = 10_000;
const MAX_CERTIFICATE_BYTES = 64 * 1024;
const MAX_CACHED_CERTIFICATES = 50;

// SNS retries a 5xx: the message is posted again when AWS answers.
const unavailable = (message: string, cause: unknown) => new AppError("sns_unavailable", 503, `Try again later: ${message}.`, undefined, { cause });

export function createSesVerifier(config: Config["sns"]): SesVerifier {
  let dispatcher: Dispatcher | undefined;
  // Read at first use: SNS_CA_FILE matters only to an instance that receives SES mail.
  const agent = () =>
    (dispatcher ??= new Agent({
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      connect: { timeout: TIMEOUT_MS, ...(config.caFile ? { ca: [...rootCertificates, readFileSync(config.caFile, "utf8")] } : {}) },
    }));
  const certificates = new Map<string, Promise<X509Certificate | null>>();

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
      let cached: Promise<X509Certificate | null> | undefined = certificates.get(url);
      if (cached === undefined) {
        // SNS signs with a handful of certificates; more URLs than this are someone probing.
        if (certificates.size >= MAX_CACHED_CERTIFICATES) certificates.clear();
        cached = get(url, MAX_CERTIFICATE_BYTES).then((pem) => {
          try {
            return new X509Certificate(pem);
          } catch {
            return null;
          }
        });
        // Only certificates are kept: a failed fetch is tried again by the next message.
        cached.then((c) => c === null && certificates.delete(url)).catch(() => certificates.delete(url));
        certificates.set(url, cached);
      }
      return cached.catch((err: unknown) => {
        throw unavailable(`the SNS signing certificate ${url} cannot be fetched now (${(err as Error).message})`, err);
      });
    },
    async confirm(url) {
      await get(url, MAX_CERTIFICATE_BYTES).catch((err: unknown) => {
        throw unavailable(`the subscription could not be confirmed at ${url} (${(err as Error).message})`, err);
      });
    },
  };
}
