// A small check of the Prometheus text exposition format (0.0.4): comments are HELP or TYPE,
// every other line is `name{label="value",...} number`. Returns the samples, keyed for lookups.
export type Sample = { name: string; labels: Record<string, string>; value: number };

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|\+?Inf|NaN))$/i;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]*( .*)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  text.split("\n").forEach((line, i) => {
    if (line === "") return;
    if (line.startsWith("#")) {
      if (!COMMENT.test(line)) throw new Error(`line ${i + 1} is a comment but not # HELP or # TYPE: ${line}`);
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not 'name{labels} value': ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? "").matchAll(LABEL)) labels[key!] = value!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    samples.push({ name: m[1]!, labels, value: Number(m[3]!.replace(/^\+/, "")) });
  });
  return samples;
}

/** The samples of one metric whose labels include `labels`. */
export function samplesOf(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
