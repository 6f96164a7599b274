import { afterEach, describe, expect, it } from "vitest";
import { syncRequests } from "../../../src/db/schema.ts";
import { TOPIC } from "../../fakes/google/fake-google.ts";
import { startFakePubSub, type FakePubSub } from "../../fakes/pubsub/fake-pubsub.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { startGmailFixture, storedMessages, ticketSubjects, waitFor, type GmailFixture } from "./gmail-fixture.ts";

const SUBSCRIPTION = "projects/fake-project/subscriptions/mailgate-pull";

let f: GmailFixture | undefined;
let pubsub: FakePubSub | undefined;
afterEach(async () => {
  await f?.close();
  await pubsub?.close();
  f = undefined;
  pubsub = undefined;
});

describe("Gmail with Pub/Sub pull", () => {
  it("When delivery is pull, then a streaming-pull subscriber receives Gmail's notification, acknowledges it once the sync request is stored, and the mail becomes a ticket", async () => {
    pubsub = await startFakePubSub();
    pubsub.createSubscription(SUBSCRIPTION);
    f = await startGmailFixture({ delivery: "pull", subscriptionName: SUBSCRIPTION, env: { PUBSUB_EMULATOR_HOST: pubsub.host } });
    const fakePubsub = pubsub;
    f.google.pullTargets.set(TOPIC, (data) => void fakePubsub.publish(SUBSCRIPTION, Buffer.from(data, "base64")));
    f.startRuntime();
    await waitFor("the subscriber's stream", async () => fakePubsub.openStreams(SUBSCRIPTION) > 0);
    await waitFor("the start-up sync", async () => (await f!.t.ctx.db.select().from(syncRequests)).length === 0);

    const { message } = await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "Pulled, not pushed" }));
    await waitFor("the acknowledgement", async () => fakePubsub.acked.length === 1);
    await waitFor("the message", async () => (await storedMessages(f!)).some((m) => m.providerMessageId === message.id));
    expect(fakePubsub.outstanding(SUBSCRIPTION)).toBe(0);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["Pulled, not pushed"]);
  });

  it("When a pulled message is not a Gmail notification, then it is acknowledged (not redelivered forever) and nothing is recorded", async () => {
    pubsub = await startFakePubSub();
    pubsub.createSubscription(SUBSCRIPTION);
    f = await startGmailFixture({ delivery: "pull", subscriptionName: SUBSCRIPTION, env: { PUBSUB_EMULATOR_HOST: pubsub.host } });
    await f.startRuntimeSettled();
    const fakePubsub = pubsub;
    await waitFor("the subscriber's stream", async () => fakePubsub.openStreams(SUBSCRIPTION) > 0);
    fakePubsub.publish(SUBSCRIPTION, Buffer.from("not a notification"));
    await waitFor("the acknowledgement", async () => fakePubsub.acked.length === 1);
    expect(await f.t.ctx.db.select().from(syncRequests)).toHaveLength(0);
  });
});
