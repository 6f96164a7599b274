// What Graph POSTs to /push/graph and /push/graph/lifecycle, parsed from the raw body.
// Unknown fields are kept out of the way (Graph adds them over time); missing essentials reject.
import { z } from "zod";

const changeNotification = z.looseObject({
  subscriptionId: z.string().min(1),
  clientState: z.string().nullish(),
  changeType: z.string().min(1),
  resource: z.string().default(""),
  resourceData: z.looseObject({ id: z.string().min(1).optional() }).nullish(),
});

const lifecycleNotification = z.looseObject({
  subscriptionId: z.string().min(1),
  clientState: z.string().nullish(),
  lifecycleEvent: z.string().min(1),
});

export type ChangeNotification = z.infer<typeof changeNotification>;
export type LifecycleNotification = z.infer<typeof lifecycleNotification>;
export type LifecycleEvent = "reauthorizationRequired" | "subscriptionRemoved" | "missed";

export type Parsed<T> = { ok: true; notifications: T[] } | { ok: false; reason: string };

export const parseChangeNotifications = (body: Buffer) => parseCollection(body, changeNotification);
export const parseLifecycleNotifications = (body: Buffer) => parseCollection(body, lifecycleNotification);

function parseCollection<T>(body: Buffer, item: z.ZodType<T>): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return { ok: false, reason: "the body is not JSON" };
  }
  const parsed = z.object({ value: z.array(item) }).safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a Graph notification collection: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  return { ok: true, notifications: parsed.data.value };
}

/** The message a "created" notification is about: resourceData.id, or the last segment of resource. */
export function messageIdOf(n: ChangeNotification): string | null {
  if (n.resourceData?.id) return n.resourceData.id;
  // resource looks like "Users/{user-id}/Messages/{message-id}"
  const match = /\/messages\/([^/]+)$/i.exec(n.resource);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

export function isLifecycleEvent(value: string): value is LifecycleEvent {
  return value === "reauthorizationRequired" || value === "subscriptionRemoved" || value === "missed";
}
