import { describe, expect, it } from "vitest";
import { messageIdOf, parseChangeNotifications, parseLifecycleNotifications } from "../../../src/sources/graph/graph-notifications.ts";

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("parseChangeNotifications", () => {
  it("reads Graph's collection, keeping fields it does not know about", () => {
    const parsed = parseChangeNotifications(
      body({
        value: [
          {
            subscriptionId: "s-1",
            clientState: "cs",
            changeType: "created",
            resource: "Users/u/Messages/AAk=",
            resourceData: { "@odata.type": "#Microsoft.Graph.Message", id: "AAk=" },
            tenantId: "t",
          },
        ],
      }),
    );
    expect(parsed).toMatchObject({ ok: true, notifications: [{ subscriptionId: "s-1", clientState: "cs", tenantId: "t" }] });
  });

  it("When the body is not JSON or not a collection, then it says why", () => {
    expect(parseChangeNotifications(Buffer.from("{oops"))).toEqual({ ok: false, reason: "the body is not JSON" });
    expect(parseChangeNotifications(body({ value: [{ changeType: "created" }] })).ok).toBe(false);
    expect(parseChangeNotifications(body({ items: [] })).ok).toBe(false);
  });
});

describe("parseLifecycleNotifications", () => {
  it("reads lifecycle events with their subscription and clientState", () => {
    expect(parseLifecycleNotifications(body({ value: [{ subscriptionId: "s", clientState: "c", lifecycleEvent: "missed" }] }))).toMatchObject({
      ok: true,
      notifications: [{ lifecycleEvent: "missed" }],
    });
  });
});

describe("messageIdOf", () => {
  const base = { subscriptionId: "s", changeType: "created" };
  it("takes resourceData.id, or else the last segment of resource", () => {
    expect(messageIdOf({ ...base, resource: "Users/u/Messages/x", resourceData: { id: "AAk=" } })).toBe("AAk=");
    expect(messageIdOf({ ...base, resource: "Users/u/Messages/AAk%3D" })).toBe("AAk=");
    expect(messageIdOf({ ...base, resource: "Users/u/Events/1" })).toBeNull();
  });
});
