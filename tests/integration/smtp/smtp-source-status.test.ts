// The status of smtp sources: connected while some instance's SMTP listener serves them, in error
// naming SMTP_LISTEN while none does, each transition written once (status, error log, events).
// "Another instance" is a presence row renewed the way a listener on it would renew it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { errorLog, events } from "../../../src/db/schema.ts";
import { LEASE_TTL_MS } from "../../../src/scheduler/leases.ts";
import { announceLastingFailures } from "../../../src/sources/failure-announcer.ts";
import { keepSmtpStatuses, renewPresence, startSmtpStatusKeeper } from "../../../src/sources/smtp/listener-presence.ts";
import { startSmtpListener } from "../../../src/sources/smtp/smtp-listener.ts";

const DELAY_SECONDS = 300;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext({ clock, env: { SMTP_LISTEN: "127.0.0.1:0", SOURCE_FAILED_WEBHOOK_DELAY_SECONDS: String(DELAY_SECONDS) } });
});
afterAll(async () => t?.close());

const create = async (address: string) =>
  (await t.api.post("/api/sources").send({ kind: "smtp", name: address, address, role: "system" }).expect(201)).body as { id: string; status: string; lastError: string | null };
const statusOf = async (id: string) => (await t.api.get(`/api/sources/${id}`).expect(200)).body as { status: string; lastError: string | null };
const errorsOf = (id: string) => t.ctx.db.select().from(errorLog).where(and(eq(errorLog.sourceId, id), eq(errorLog.kind, "connection_failed")));
const eventTypes = async () => (await t.ctx.db.select({ type: events.type }).from(events)).map((e) => e.type);

describe("the status of smtp sources", () => {
  let first: string;

  it("When an smtp source is created and no instance listens, then it is in error naming SMTP_LISTEN, written once however often the keeper looks", async () => {
    const created = await create("support@msp.example");
    first = created.id;
    expect(created.status).toBe("error");
    expect(created.lastError).toContain("SMTP_LISTEN");
    for (let i = 0; i < 3; i++) await keepSmtpStatuses(t.ctx);
    expect(await statusOf(first)).toMatchObject({ status: "error" });
    expect(await errorsOf(first)).toHaveLength(1);
    // A listener starting fixes it, so source.failed waits for the delay.
    expect(await eventTypes()).not.toContain("source.failed");
    expect((await t.api.post(`/api/sources/${first}/test`).expect(200)).body).toMatchObject({ ok: true });
  });

  it("When the failure outlasts the delay, then source.failed is sent once", async () => {
    offsetMs += DELAY_SECONDS * 1000 + 1000;
    await announceLastingFailures(t.ctx);
    await announceLastingFailures(t.ctx);
    expect((await eventTypes()).filter((type) => type === "source.failed")).toHaveLength(1);
  });

  it("When a listener starts, then its smtp sources become connected (source.recovered once), a new one is connected at once, and a disabled one stays disabled", async () => {
    const disabled = await create("off@msp.example");
    await t.api.patch(`/api/sources/${disabled.id}`).send({ enabled: false }).expect(200);
    const listener = await startSmtpListener(t.ctx, t.config.smtpListener!);
    try {
      expect(await statusOf(first)).toMatchObject({ status: "connected", lastError: null });
      expect((await eventTypes()).filter((type) => type === "source.recovered")).toHaveLength(1);
      expect((await create("help@msp.example")).status).toBe("connected");
      expect((await statusOf(disabled.id)).status).toBe("disabled");
      expect((await t.api.patch(`/api/sources/${disabled.id}`).send({ enabled: true }).expect(200)).body.status).toBe("connected");
    } finally {
      await listener.stop();
    }
  });

  it("When the only listener stops, then its sources stay connected until its presence runs out, and then go to error once", async () => {
    await keepSmtpStatuses(t.ctx);
    expect((await statusOf(first)).status).toBe("connected");
    offsetMs += LEASE_TTL_MS + 1000;
    await keepSmtpStatuses(t.ctx);
    await keepSmtpStatuses(t.ctx);
    const after = await statusOf(first);
    expect(after.status).toBe("error");
    expect(after.lastError).toContain("SMTP_LISTEN");
    expect(await errorsOf(first)).toHaveLength(2);
  });

  it("When another instance listens and this one does not, then this instance's keeper sees it and marks the sources connected", async () => {
    await renewPresence(t.ctx, "smtp-listener:other-instance");
    const keeper = startSmtpStatusKeeper(t.ctx);
    await keeper.firstPass;
    await keeper.stop();
    expect((await statusOf(first)).status).toBe("connected");
    const { items } = (await t.api.get("/api/sources").expect(200)).body as { items: { status: string }[] };
    expect(items.map((s) => s.status).sort()).toEqual(["connected", "connected", "connected"]);
  });
});
