// A plain person's mail as classify() sees it, for unit tests that change one field at a time.
import type { ClassifiableEmail } from "../../src/pipeline/classify.ts";

export function classifiableEmail(overrides: Partial<ClassifiableEmail> = {}): ClassifiableEmail {
  return {
    messageId: "abc@acme.com",
    messageIdGenerated: false,
    from: { address: "john@acme.com", name: "John" },
    headers: {},
    contentType: "text/plain",
    reportType: null,
    ...overrides,
  };
}
