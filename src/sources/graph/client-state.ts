// Graph signs nothing: the clientState we chose at creation, echoed in every notification, is
// what tells a real notification from a forged one. Compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";

export function clientStateMatches(expected: string, received: unknown): boolean {
  if (typeof received !== "string" || received.length === 0) return false;
  // Hashing first gives equal lengths, so the comparison leaks neither content nor length.
  const a = createHash("sha256").update(expected, "utf8").digest();
  const b = createHash("sha256").update(received, "utf8").digest();
  return timingSafeEqual(a, b);
}
