// Whether mailgate may POST to a webhook URL. Anyone who can create an endpoint could otherwise
// make mailgate call its own network (SSRF): the database, the admin API on loopback, the cloud
// metadata service that hands out credentials. Every address a name resolves to is checked, not
// only the first, because the HTTP client may connect to any of them.
//
// Cloud metadata addresses are refused even with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: no receiver
// lives there, and the embedded quick start turns that setting on by default.
//
// checkWebhookUrl answers early, with a message for the user; connectLookup is the check that
// holds: the HTTP client resolves the name again when it connects, and a name can answer a
// public address to the check and loopback to the connection (DNS rebinding).
import { BlockList, isIP, type LookupFunction } from "node:net";
import { lookup as dnsLookup } from "node:dns/promises";

export type ResolvedAddress = { address: string; family: number };
export type Lookup = (host: string, opts?: { family?: number; hints?: number }) => Promise<ResolvedAddress[]>;

export type UrlCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; code: string; message: string };

type Range = { net: string; prefix: number };

const V4_RANGES: Record<string, Range[]> = {
  "a loopback": [{ net: "127.0.0.0", prefix: 8 }],
  "a private": [
    { net: "10.0.0.0", prefix: 8 },
    { net: "172.16.0.0", prefix: 12 },
    { net: "192.168.0.0", prefix: 16 },
  ],
  "a link-local": [{ net: "169.254.0.0", prefix: 16 }],
  "a carrier-grade NAT (100.64.0.0/10)": [{ net: "100.64.0.0", prefix: 10 }],
  'a "this network" (0.0.0.0/8)': [{ net: "0.0.0.0", prefix: 8 }],
  "a multicast": [{ net: "224.0.0.0", prefix: 4 }],
  "a reserved or broadcast": [{ net: "240.0.0.0", prefix: 4 }],
};

const V6_RANGES: Record<string, Range[]> = {
  "a loopback": [{ net: "::1", prefix: 128 }],
  "an unspecified": [{ net: "::", prefix: 128 }],
  "a private": [{ net: "fc00::", prefix: 7 }],
  "a link-local": [{ net: "fe80::", prefix: 10 }],
  "a multicast": [{ net: "ff00::", prefix: 8 }],
};

const METADATA_V4 = ["169.254.169.254"];
const METADATA_V6 = ["fd00:ec2::254"];
const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata"]);

// IPv6 forms that carry an IPv4 address inside: IPv4-mapped (::ffff:a.b.c.d) and the NAT64
// well-known prefix (64:ff9b::a.b.c.d) reach the IPv4 host they embed.
const V4_IN_V6_PREFIXES = ["::ffff:", "64:ff9b::"];

function buildBlockLists() {
  const ranges = new Map<string, BlockList>();
  const listFor = (label: string) => {
    let list = ranges.get(label);
    if (!list) ranges.set(label, (list = new BlockList()));
    return list;
  };
  for (const [label, nets] of Object.entries(V4_RANGES)) {
    for (const { net, prefix } of nets) {
      listFor(label).addSubnet(net, prefix, "ipv4");
      for (const p of V4_IN_V6_PREFIXES) listFor(label).addSubnet(p + net, 96 + prefix, "ipv6");
    }
  }
  for (const [label, nets] of Object.entries(V6_RANGES)) {
    for (const { net, prefix } of nets) listFor(label).addSubnet(net, prefix, "ipv6");
  }
  const metadata = new BlockList();
  for (const a of METADATA_V4) {
    metadata.addAddress(a, "ipv4");
    for (const p of V4_IN_V6_PREFIXES) metadata.addAddress(p + a, "ipv6");
  }
  for (const a of METADATA_V6) metadata.addAddress(a, "ipv6");
  return { ranges, metadata };
}

let blockLists: ReturnType<typeof buildBlockLists> | null = null;

/**
 * Which kind of non-public address this is: "metadata", or a phrase for messages ("a private",
 * "a loopback", ...); null for a public address.
 */
export function classifyAddress(address: string): string | null {
  blockLists ??= buildBlockLists();
  // A resolver may append an IPv6 zone ("fe80::1%eth0"); the range does not depend on it.
  const bare = address.replace(/%.*$/, "");
  const family = isIP(bare) === 6 ? "ipv6" : "ipv4";
  if (blockLists.metadata.check(bare, family)) return "metadata";
  for (const [label, list] of blockLists.ranges) if (list.check(bare, family)) return label;
  return null;
}

/** dns.lookup, every address: what the HTTP client would connect to. */
export const systemLookup: Lookup = (host, opts = {}) => dnsLookup(host, { all: true, verbatim: true, family: opts.family ?? 0, hints: opts.hints });

/**
 * Why mailgate may not connect to `address` (what `host` resolved to, or `host` itself when it is
 * an address), or null when it may.
 */
export function addressProblem(host: string, address: string, allowPrivateNetworks: boolean): { code: string; message: string } | null {
  const kind = classifyAddress(address);
  if (kind === null) return null;
  if (kind === "metadata") return metadataRefusal(host, address);
  if (allowPrivateNetworks) return null;
  const where = address === host ? `${host} is` : `${host} resolves to ${address},`;
  return { code: "private_address", message: `${where} ${kind} address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it` };
}

/** A connection refused because of the address it would reach; the message says which and why. */
export class RefusedAddressError extends Error {
  readonly code = "ERR_WEBHOOK_ADDRESS_REFUSED";
  readonly address: string;
  constructor(message: string, address: string) {
    super(message);
    this.name = "RefusedAddressError";
    this.address = address;
  }
}

/**
 * A `lookup` for net.connect and tls.connect (undici's `connect: { lookup }`): resolves as
 * dns.lookup does, and fails the connection with a RefusedAddressError when any answer is an
 * address checkWebhookUrl refuses, so no socket is opened to it. Every answer is checked, not
 * only the one asked for, as at save time.
 */
export function connectLookup(opts: { allowPrivateNetworks: boolean; resolve?: Lookup }): LookupFunction {
  const resolve = opts.resolve ?? systemLookup;
  return (hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const answer = async (): Promise<ResolvedAddress[]> => {
      const answers = await resolve(hostname, { family, hints: options.hints });
      for (const { address } of answers) {
        const problem = addressProblem(hostname, address, opts.allowPrivateNetworks);
        if (problem) throw new RefusedAddressError(problem.message, address);
      }
      const usable = answers.filter((a) => (family === 0 || a.family === family) && isIP(a.address) === a.family);
      if (usable.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname });
      return usable;
    };
    answer().then(
      (usable) => (options.all ? callback(null, usable) : callback(null, usable[0]!.address, usable[0]!.family)),
      (err: NodeJS.ErrnoException) => callback(err, ""),
    );
  };
}

export async function checkWebhookUrl(
  raw: string,
  opts: { allowHttp: boolean; allowPrivateNetworks: boolean; lookup?: Lookup },
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("invalid_url", `${raw} is not an absolute URL; give one such as https://hooks.example.com/mailgate`);
  }
  if (url.protocol === "http:" && !opts.allowHttp) {
    return refuse("https_required", `${raw} uses plain http; use https://, or set WEBHOOK_ALLOW_HTTP=true to allow http`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse("unsupported_scheme", `${raw} uses ${url.protocol.slice(0, -1)}; webhook URLs must be https://`);
  }
  if (url.username !== "" || url.password !== "") {
    return refuse(
      "credentials_in_url",
      `${url.host} is given with a user name or password in the URL; remove them (each delivery is signed, so the receiver can verify it without them)`,
    );
  }
  // URL keeps the brackets of an IPv6 literal and a trailing dot of a fully qualified name.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (METADATA_HOSTS.has(host)) return { ok: false, ...metadataRefusal(host, host) };

  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = (await (opts.lookup ?? systemLookup)(host)).map((r) => r.address);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return refuse("dns_failed", `${host} does not resolve (${code}); check the host name`);
    }
    if (addresses.length === 0) return refuse("dns_failed", `${host} resolves to no address; check the host name`);
  }

  for (const address of addresses) {
    const problem = addressProblem(host, address, opts.allowPrivateNetworks);
    if (problem) return { ok: false, ...problem };
  }
  return { ok: true, url, addresses };
}

function metadataRefusal(host: string, address: string): { code: string; message: string } {
  const where = address === host ? `${host} is` : `${host} resolves to ${address},`;
  return {
    code: "metadata_address",
    message: `${where} a cloud metadata service, which never receives webhooks; point the endpoint at your receiver`,
  };
}

const refuse = (code: string, message: string): UrlCheck => ({ ok: false, code, message });
