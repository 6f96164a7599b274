import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { watchDatabaseOutages } from "../../../src/db/database-outage.ts";
import { isDatabaseUnavailable } from "../../../src/db/database-unavailable.ts";

function capturedLog() {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
// drizzle wraps the driver's error: the code sits in the cause.
const terminated = new Error("Failed query: select 1", { cause: Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }) });

describe("isDatabaseUnavailable", () => {
  it("When the error is a refused or cut connection, a terminated backend or a closed PGlite, then the database is unavailable", () => {
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(terminated)).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), { code: "CONNECTION_CLOSED" }))).toBe(true);
    expect(isDatabaseUnavailable(new Error("PGlite is closed"))).toBe(true);
  });

  it("When the error is a bad statement or a constraint, then it is not the database being away", () => {
    expect(isDatabaseUnavailable(new Error("x", { cause: Object.assign(new Error("duplicate key"), { code: "23505" }) }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error("syntax error"), { code: "42601" }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined"))).toBe(false);
  });
});

describe("watchDatabaseOutages", () => {
  it("When many parts fail during one outage, then it is logged once when it starts and once when the database answers again", async () => {
    const { log, lines } = capturedLog();
    let up = false;
    const outage = watchDatabaseOutages({ log, ping: () => (up ? Promise.resolve() : Promise.reject(refused)), probeEveryMs: 10 });
    for (let i = 0; i < 50; i++) expect(outage.report(i % 2 ? refused : terminated)).toBe(true);
    expect(outage.ongoing()).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(outage.ongoing()).toBe(true);
    up = true;
    await expect.poll(() => outage.ongoing()).toBe(false);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, "the database cannot be reached; the API answers 503 and work waits until it is back"],
      [30, "the database answers again; everything waiting on it resumes"],
    ]);
    expect(lines[0]!.reason).toMatch(/57P01|ECONNREFUSED/);
    outage.stop();
  });

  it("When an error is not the database being away, then it is not counted as an outage and the caller logs it", () => {
    const { log, lines } = capturedLog();
    const outage = watchDatabaseOutages({ log, ping: async () => {} });
    expect(outage.report(new TypeError("a bug"))).toBe(false);
    expect(outage.ongoing()).toBe(false);
    expect(lines).toEqual([]);
    outage.stop();
  });
});
