// Content-Transfer-Encoding: x-uuencode is not MIME, but old mailers (Eudora, some Mac clients)
// still send it, and mailparser passes such a part through undecoded.

/** Decodes uuencoded text; "begin"/"end" lines are optional, as those mailers often drop them. */
export function uudecode(encoded: Buffer): Buffer {
  const out: number[] = [];
  for (const line of encoded.toString("latin1").split(/\r?\n/)) {
    if (/^(begin\s|end\s*$)/.test(line) || line.length === 0) continue;
    const length = (line.charCodeAt(0) - 32) & 63;
    if (length === 0) continue;
    const bytes: number[] = [];
    for (let i = 1; i < line.length && bytes.length < length; i += 4) {
      const [a, b, c, d] = [0, 1, 2, 3].map((k) => (line.charCodeAt(i + k) - 32) & 63) as [number, number, number, number];
      bytes.push(((a << 2) | (b >> 4)) & 0xff, ((b << 4) | (c >> 2)) & 0xff, ((c << 6) | d) & 0xff);
    }
    out.push(...bytes.slice(0, length));
  }
  return Buffer.from(out);
}
