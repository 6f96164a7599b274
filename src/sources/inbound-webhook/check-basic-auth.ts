// SendGrid and Postmark sign nothing; both recommend HTTP Basic credentials written into the URL
// they post to (https://user:password@host/...), which arrive as an Authorization header.
import { createHash, timingSafeEqual } from "node:crypto";

/** Whether the header carries exactly this user and password; compared in constant time. */
export function checkBasicAuth(header: string | undefined, user: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  const given = match ? Buffer.from(match[1]!, "base64") : Buffer.alloc(0);
  // Digests of equal length, so neither the length nor the content of the secret leaks by timing.
  const digest = (b: Buffer) => createHash("sha256").update(b).digest();
  const same = timingSafeEqual(digest(given), digest(Buffer.from(`${user}:${password}`, "utf8")));
  return match !== null && same;
}
