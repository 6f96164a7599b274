import { describe, expect, it } from "vitest";
import { decideRoute, senderDomainCandidates, type RouteInput } from "../../../src/pipeline/route-by-domain.ts";

const ACME = "company-acme";
const VIP = "company-vip";
const DEFAULT = "company-default";

function route(overrides: Partial<RouteInput> = {}): RouteInput {
  return {
    source: { role: "system", companyId: null },
    recipientCompanyIds: [],
    domainMatches: { "acme.com": ACME, "acme-corp.com": ACME },
    senderAddress: "john@acme.com",
    unmapped: { mode: "default_company", defaultCompanyId: null },
    ...overrides,
  };
}

describe("senderDomainCandidates", () => {
  it("When the sender is on a sub-domain, then its parents follow, down to two labels", () => {
    expect(senderDomainCandidates("j@mail.eu.acme.com")).toEqual(["mail.eu.acme.com", "eu.acme.com", "acme.com"]);
  });

  it("When the address has upper case or a trailing dot, then the domains are normal", () => {
    expect(senderDomainCandidates("John@ACME.com.")).toEqual(["acme.com"]);
  });

  it("When there is no usable domain, then there are no candidates", () => {
    for (const address of ["", "mailer-daemon", "john@", "john@acme..com", "john@.acme.com"]) {
      expect(senderDomainCandidates(address), address).toEqual([]);
    }
  });

  it("When the domain has one label, then it is its own only candidate", () => {
    expect(senderDomainCandidates("root@localhost")).toEqual(["localhost"]);
  });
});

describe("decideRoute", () => {
  it("When john@acme.com writes to the system mailbox and acme.com is mapped, then the ticket is Acme's", () => {
    expect(decideRoute(route())).toEqual({ kind: "company", companyId: ACME, via: "domain", unmapped: false });
  });

  it("When the sender uses the second mapped domain acme-corp.com, then the ticket is Acme's", () => {
    expect(decideRoute(route({ senderAddress: "jane@acme-corp.com" }))).toMatchObject({ companyId: ACME, via: "domain" });
  });

  it("When the sender writes from a sub-domain, then the most specific mapping wins", () => {
    const domainMatches = { "acme.com": ACME, "eu.acme.com": VIP };
    expect(decideRoute(route({ senderAddress: "ops@mail.eu.acme.com", domainMatches }))).toMatchObject({ companyId: VIP, via: "domain" });
    expect(decideRoute(route({ senderAddress: "ops@mail.acme.com", domainMatches }))).toMatchObject({ companyId: ACME, via: "domain" });
  });

  it("When the mail arrives at a company mailbox, then every mail there is that company's", () => {
    expect(decideRoute(route({ source: { role: "company", companyId: VIP }, senderAddress: "someone@gmail.com" }))).toEqual({
      kind: "company",
      companyId: VIP,
      via: "company_mailbox",
      unmapped: false,
    });
  });

  it("When a company mailbox is also among the recipients, then it is processed first and wins over the domain", () => {
    expect(decideRoute(route({ recipientCompanyIds: [VIP, "company-other"] }))).toEqual({ kind: "company", companyId: VIP, via: "recipient_mailbox", unmapped: false });
  });

  it("When the domain is unmapped and a default company is set, then the ticket goes there, marked unmapped", () => {
    expect(decideRoute(route({ senderAddress: "who@unknown.org", unmapped: { mode: "default_company", defaultCompanyId: DEFAULT } }))).toEqual({
      kind: "company",
      companyId: DEFAULT,
      via: "default_company",
      unmapped: true,
    });
  });

  it("When the domain is unmapped and leads are configured, then a lead is created for the domain", () => {
    expect(decideRoute(route({ senderAddress: "buyer@Prospect.example", unmapped: { mode: "lead" } }))).toEqual({ kind: "lead", domain: "prospect.example" });
  });

  it("When the domain is unmapped and there is no default company, then the mail is unrouted with what to do", () => {
    const decision = decideRoute(route({ senderAddress: "who@unknown.org" }));
    expect(decision.kind).toBe("unrouted");
    if (decision.kind === "unrouted") {
      expect(decision.reason).toContain("unknown.org");
      expect(decision.reason).toMatch(/map the domain/);
      expect(decision.reason).toMatch(/default company/);
    }
  });

  it("When the sender has no domain, then neither a default nor a lead can be guessed wrongly", () => {
    expect(decideRoute(route({ senderAddress: "", unmapped: { mode: "lead" } }))).toMatchObject({ kind: "unrouted", reason: expect.stringContaining("no email domain") });
    expect(decideRoute(route({ senderAddress: "", unmapped: { mode: "default_company", defaultCompanyId: DEFAULT } }))).toMatchObject({ companyId: DEFAULT, unmapped: true });
  });

  it("When a company mailbox has lost its company, then it routes like the system mailbox", () => {
    expect(decideRoute(route({ source: { role: "company", companyId: null } }))).toMatchObject({ companyId: ACME, via: "domain" });
  });
});
