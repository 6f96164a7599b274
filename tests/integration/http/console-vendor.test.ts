// The console's charting library comes from mailgate itself, under the console's own headers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe("GET /console/vendor/uplot/", () => {
  it("When the overview loads uPlot, then its module and style sheet come from mailgate as script and CSS under the console's policy, no token needed", async () => {
    const script = await t.anonymous.get("/console/vendor/uplot/uPlot.esm.js").expect(200);
    expect(script.headers["content-type"]).toMatch(/^(text|application)\/javascript/);
    expect(script.text).toContain("export { uPlot as default }");
    expect(script.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(script.headers["x-content-type-options"]).toBe("nosniff");
    const css = await t.anonymous.get("/console/vendor/uplot/uPlot.min.css").expect(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect(css.text).toContain(".uplot");
  });

  it("When another file of the package is asked for, then it is not served", async () => {
    await t.anonymous.get("/console/vendor/uplot/uPlot.cjs.js").expect(404);
    await t.anonymous.get("/console/vendor/uplot/package.json").expect(404);
  });
});
