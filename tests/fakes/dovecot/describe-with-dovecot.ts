// IMAP integration tests need a real Dovecot. Without one (and outside CI) they are skipped with a
// visible warning instead of failing; in CI a missing Dovecot is a failure.
import { describe } from "vitest";
import { findDovecot } from "./dovecot-server.ts";

export function describeWithDovecot(name: string, body: () => void): void {
  if (findDovecot() === null && !process.env.CI) {
    console.warn(`SKIPPED "${name}": dovecot is not installed (apt-get install -y dovecot-imapd); IMAP tests need a real server.`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}
