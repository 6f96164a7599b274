// The lookup every webhook connection resolves its host with (undici's `connect: { lookup }`):
// what it hands to net.connect, and when it fails the connection instead. A fake resolver: no
// test touches real DNS or opens a socket.
import type { LookupAddress, LookupOptions } from "node:dns";
import { describe, expect, it } from "vitest";
import { connectLookup, RefusedAddressError, type Lookup } from "../../../src/delivery/url-safety.ts";

const resolvesTo =
  (...addresses: string[]): Lookup =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

type Answer = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

/** Calls the lookup as net.connect does and returns what it called back with. */
function lookUp(lookup: ReturnType<typeof connectLookup>, host: string, options: LookupOptions): Promise<Answer> {
  return new Promise((resolve) => lookup(host, options, (err, address, family) => resolve({ err, address, family })));
}

const strict = (resolve: Lookup) => connectLookup({ allowPrivateNetworks: false, resolve });
const lenient = (resolve: Lookup) => connectLookup({ allowPrivateNetworks: true, resolve });

describe("connectLookup", () => {
  it("When a name resolves to a public IPv4 address, then net gets it, as one address or as a list", async () => {
    const lookup = strict(resolvesTo("93.184.216.34"));
    expect(await lookUp(lookup, "hooks.example.com", {})).toEqual({ err: null, address: "93.184.216.34", family: 4 });
    expect(await lookUp(lookup, "hooks.example.com", { all: true })).toEqual({ err: null, address: [{ address: "93.184.216.34", family: 4 }], family: undefined });
  });

  it("When a name resolves to a public IPv6 address, then net gets it with family 6", async () => {
    expect(await lookUp(strict(resolvesTo("2606:2800:220:1::1")), "hooks.example.com", {})).toEqual({ err: null, address: "2606:2800:220:1::1", family: 6 });
  });

  it.each([
    ["127.0.0.1", "a loopback"],
    ["10.1.2.3", "a private"],
    ["169.254.10.1", "a link-local"],
    ["::1", "a loopback"],
    ["fd12:3456::1", "a private"],
    ["fe80::1%eth0", "a link-local"],
    ["::ffff:127.0.0.1", "a loopback"],
    ["::ffff:7f00:1", "a loopback"],
    ["::ffff:192.168.1.1", "a private"],
    ["64:ff9b::10.0.0.1", "a private"],
  ])("When a name resolves to %s, then the connection fails with the address and why, single or all", async (address, kind) => {
    const lookup = strict(resolvesTo(address));
    for (const options of [{}, { all: true }, { all: true, family: 0 }]) {
      const { err } = await lookUp(lookup, "rebind.example", options);
      expect(err).toBeInstanceOf(RefusedAddressError);
      expect(err).toMatchObject({
        code: "ERR_WEBHOOK_ADDRESS_REFUSED",
        address,
        message: `rebind.example resolves to ${address}, ${kind} address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`,
      });
    }
  });

  it.each([
    [["93.184.216.34", "127.0.0.1"]],
    [["127.0.0.1", "93.184.216.34"]],
    [["2606:2800:220:1::1", "::1"]],
    [["93.184.216.34", "2606:2800:220:1::1", "::ffff:127.0.0.1"]],
    [["93.184.216.34", "10.0.0.7"]],
  ])("When any one of several answers (%j) is private, then the connection fails, whatever the order and the family asked", async (answers) => {
    const lookup = strict(resolvesTo(...answers));
    for (const options of [{ all: true }, {}, { family: 4 }, { family: 6, all: true }]) {
      expect((await lookUp(lookup, "rebind.example", options)).err).toBeInstanceOf(RefusedAddressError);
    }
  });

  it("When every answer is public, then net gets all of them for happy eyeballs, or those of the family it asked for", async () => {
    const lookup = strict(resolvesTo("2606:2800:220:1::1", "93.184.216.34"));
    expect((await lookUp(lookup, "hooks.example.com", { all: true })).address).toEqual([
      { address: "2606:2800:220:1::1", family: 6 },
      { address: "93.184.216.34", family: 4 },
    ]);
    expect(await lookUp(lookup, "hooks.example.com", { family: 4 })).toEqual({ err: null, address: "93.184.216.34", family: 4 });
    expect(await lookUp(lookup, "hooks.example.com", { family: "IPv6", all: true })).toMatchObject({ address: [{ address: "2606:2800:220:1::1", family: 6 }] });
  });

  it("When private networks are allowed, then loopback and private answers connect, and the metadata service still does not", async () => {
    expect(await lookUp(lenient(resolvesTo("127.0.0.1", "::1")), "localhost", { all: true })).toMatchObject({ err: null, address: [{ address: "127.0.0.1" }, { address: "::1" }] });
    expect(await lookUp(lenient(resolvesTo("::ffff:10.0.0.1")), "receiver.lan", {})).toMatchObject({ err: null, address: "::ffff:10.0.0.1" });
    for (const address of ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254"]) {
      const { err } = await lookUp(lenient(resolvesTo("93.184.216.34", address)), "innocent.example", { all: true });
      expect(err).toBeInstanceOf(RefusedAddressError);
      expect(err!.message).toContain("cloud metadata service");
    }
  });

  it("When the name does not resolve, or to nothing usable, then the resolver's error or ENOTFOUND reaches net as it is", async () => {
    const failing: Lookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    };
    expect((await lookUp(strict(failing), "nowhere.invalid", { all: true })).err).toMatchObject({ code: "ENOTFOUND" });
    expect((await lookUp(strict(resolvesTo()), "empty.example", {})).err).toMatchObject({ code: "ENOTFOUND" });
    expect((await lookUp(strict(resolvesTo("93.184.216.34")), "v4only.example", { family: 6 })).err).toMatchObject({ code: "ENOTFOUND" });
  });

  it("When net asks, then the resolver is asked anew each time, with the family and hints net gave", async () => {
    const asked: unknown[] = [];
    const answers = [["93.184.216.34"], ["127.0.0.1"]];
    const resolve: Lookup = async (host, opts) => {
      asked.push({ host, ...opts });
      return answers.shift()!.map((address) => ({ address, family: 4 }));
    };
    const lookup = strict(resolve);
    expect((await lookUp(lookup, "rebind.example", { family: 4, hints: 32 })).err).toBeNull();
    expect((await lookUp(lookup, "rebind.example", { family: 4, hints: 32 })).err).toBeInstanceOf(RefusedAddressError);
    expect(asked).toEqual([
      { host: "rebind.example", family: 4, hints: 32 },
      { host: "rebind.example", family: 4, hints: 32 },
    ]);
  });
});
