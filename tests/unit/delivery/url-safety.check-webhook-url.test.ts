import { describe, expect, it } from "vitest";
import { checkWebhookUrl, type Lookup } from "../../../src/delivery/url-safety.ts";

// A fake resolver: no test touches real DNS.
const resolvesTo =
  (...addresses: string[]): Lookup =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
const strict = { allowHttp: false, allowPrivateNetworks: false };
const notCalled: Lookup = async () => {
  throw new Error("lookup must not be called for a literal address");
};

describe("checkWebhookUrl", () => {
  it("accepts an https URL whose name resolves only to public addresses, and reports them", async () => {
    const check = await checkWebhookUrl("https://hooks.example.com/mailgate?x=1", { ...strict, lookup: resolvesTo("93.184.216.34", "2606:2800:220:1::1") });
    expect(check).toMatchObject({ ok: true, addresses: ["93.184.216.34", "2606:2800:220:1::1"] });
    if (check.ok) expect(check.url.href).toBe("https://hooks.example.com/mailgate?x=1");
  });

  it("refuses plain http unless WEBHOOK_ALLOW_HTTP is on", async () => {
    const lookup = resolvesTo("93.184.216.34");
    const refused = await checkWebhookUrl("http://hooks.example.com/", { ...strict, lookup });
    expect(refused).toMatchObject({ ok: false, code: "https_required" });
    if (!refused.ok) expect(refused.message).toContain("WEBHOOK_ALLOW_HTTP=true");
    expect(await checkWebhookUrl("http://hooks.example.com/", { ...strict, allowHttp: true, lookup })).toMatchObject({ ok: true });
  });

  it("refuses other schemes and text that is not a URL", async () => {
    expect(await checkWebhookUrl("ftp://hooks.example.com/", { ...strict, allowHttp: true })).toMatchObject({ ok: false, code: "unsupported_scheme" });
    expect(await checkWebhookUrl("hooks.example.com/x", strict)).toMatchObject({ ok: false, code: "invalid_url" });
  });

  it("refuses a user name or password in the URL", async () => {
    const check = await checkWebhookUrl("https://user:pass@hooks.example.com/", { ...strict, lookup: resolvesTo("93.184.216.34") });
    expect(check).toMatchObject({ ok: false, code: "credentials_in_url" });
  });

  it("names the address, its kind and the setting when a name resolves to a private address", async () => {
    const check = await checkWebhookUrl("https://hooks.internal.example/", { ...strict, lookup: resolvesTo("10.0.0.5") });
    expect(check).toEqual({
      ok: false,
      code: "private_address",
      message: "hooks.internal.example resolves to 10.0.0.5, a private address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it",
    });
  });

  it("refuses a name when any one of its addresses is private, not only the first", async () => {
    const check = await checkWebhookUrl("https://rebind.example/", { ...strict, lookup: resolvesTo("93.184.216.34", "192.168.1.20") });
    expect(check).toMatchObject({ ok: false, code: "private_address" });
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["10.255.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.254", "private"],
    ["192.168.0.1", "private"],
    ["169.254.10.1", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["0.0.0.0", "this network"],
    ["224.0.0.251", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fe80::1", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a00:5", "private"],
    ["0:0:0:0:0:ffff:c0a8:101", "private"],
    ["64:ff9b::10.1.2.3", "private"],
  ])("refuses a name resolving to %s (%s)", async (address, kind) => {
    const check = await checkWebhookUrl("https://hooks.example.com/", { ...strict, lookup: resolvesTo(address) });
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toContain(kind);
  });

  it.each(["172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"])(
    "accepts the public address %s next to the private ranges",
    async (address) => {
      expect(await checkWebhookUrl("https://hooks.example.com/", { ...strict, lookup: resolvesTo(address) })).toMatchObject({ ok: true });
    },
  );

  it("checks a literal IP without asking DNS, IPv6 in brackets included", async () => {
    expect(await checkWebhookUrl("https://10.1.2.3:8443/hook", { ...strict, lookup: notCalled })).toMatchObject({
      ok: false,
      code: "private_address",
      message: "10.1.2.3 is a private address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it",
    });
    expect(await checkWebhookUrl("https://[::1]/hook", { ...strict, lookup: notCalled })).toMatchObject({ ok: false, code: "private_address" });
    expect(await checkWebhookUrl("https://[::ffff:192.168.1.1]/hook", { ...strict, lookup: notCalled })).toMatchObject({ ok: false, code: "private_address" });
    expect(await checkWebhookUrl("https://93.184.216.34/hook", { ...strict, lookup: notCalled })).toMatchObject({ ok: true, addresses: ["93.184.216.34"] });
  });

  it("lets private and loopback addresses through when WEBHOOK_ALLOW_PRIVATE_NETWORKS is on", async () => {
    const opts = { allowHttp: true, allowPrivateNetworks: true };
    expect(await checkWebhookUrl("http://127.0.0.1:8080/hook", opts)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl("http://receiver.lan/hook", { ...opts, lookup: resolvesTo("192.168.1.50") })).toMatchObject({ ok: true });
  });

  it.each([
    ["https://169.254.169.254/latest/meta-data/", undefined],
    ["https://[fd00:ec2::254]/", undefined],
    ["https://[::ffff:169.254.169.254]/", undefined],
    ["https://metadata.google.internal/computeMetadata/v1/", undefined],
    ["https://metadata.google.internal./computeMetadata/v1/", undefined],
    ["https://innocent.example/", "169.254.169.254"],
  ])("refuses the cloud metadata service at %s even when private networks are allowed", async (url, resolved) => {
    const lookup = resolved ? resolvesTo(resolved) : notCalled;
    const check = await checkWebhookUrl(url, { allowHttp: true, allowPrivateNetworks: true, lookup });
    expect(check).toMatchObject({ ok: false, code: "metadata_address" });
  });

  it("reports a name that does not resolve as a value, with the resolver's code", async () => {
    const lookup: Lookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    };
    expect(await checkWebhookUrl("https://nowhere.invalid/", { ...strict, lookup })).toEqual({
      ok: false,
      code: "dns_failed",
      message: "nowhere.invalid does not resolve (ENOTFOUND); check the host name",
    });
    expect(await checkWebhookUrl("https://empty.example/", { ...strict, lookup: resolvesTo() })).toMatchObject({ ok: false, code: "dns_failed" });
  });
});
