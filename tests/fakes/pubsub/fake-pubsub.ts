// A loopback gRPC fake of Cloud Pub/Sub's Subscriber service, built from the pubsub.proto that
// @google-cloud/pubsub ships, for the real client pointed at it with PUBSUB_EMULATOR_HOST:
// StreamingPull (messages pushed down the open streams, redelivered when their ack deadline
// passes or they are nacked), Acknowledge and ModifyAckDeadline. Other methods answer UNIMPLEMENTED.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

type PubsubMessage = { data: Buffer; attributes: Record<string, string>; messageId: string; publishTime: { seconds: string; nanos: number } };
type Outstanding = { message: PubsubMessage; deadline: number; deliveryAttempt: number };
type StreamCall = grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>;
type FakeSubscription = { name: string; queue: { message: PubsubMessage; deliveryAttempt: number }[]; outstanding: Map<string, Outstanding>; streams: StreamCall[]; ackDeadlineMs: number };

export type FakePubSub = {
  /** host:port for PUBSUB_EMULATOR_HOST. */
  host: string;
  createSubscription(name: string): void;
  publish(subscription: string, data: Buffer, attributes?: Record<string, string>): string;
  /** Message ids acknowledged so far, in order. */
  acked: string[];
  /** Messages delivered and not yet acknowledged. */
  outstanding(subscription: string): number;
  /** How many StreamingPull streams are open on a subscription. */
  openStreams(subscription: string): number;
  close(): Promise<void>;
};

function loadSubscriberService(): grpc.ServiceDefinition {
  const require = createRequire(import.meta.url);
  const pubsubDir = path.dirname(require.resolve("@google-cloud/pubsub/package.json"));
  // google-gax (a dependency of the client) ships the google/api/*.proto files pubsub.proto imports.
  const gaxDir = packageRoot(createRequire(path.join(pubsubDir, "package.json")).resolve("google-gax"), "google-gax");
  const definition = protoLoader.loadSync("google/pubsub/v1/pubsub.proto", {
    includeDirs: [path.join(pubsubDir, "build/protos"), path.join(gaxDir, "build/protos")],
    longs: String,
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { google: { pubsub: { v1: { Subscriber: { service: grpc.ServiceDefinition } } } } };
  return loaded.google.pubsub.v1.Subscriber.service;
}

function packageRoot(file: string, name: string): string {
  let dir = path.dirname(file);
  while (path.basename(dir) !== name && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

export async function startFakePubSub(): Promise<FakePubSub> {
  const subscriptions = new Map<string, FakeSubscription>();
  const acked: string[] = [];
  let counter = 1;

  const dispatch = (sub: FakeSubscription) => {
    const now = Date.now();
    for (const [ackId, o] of sub.outstanding) {
      if (o.deadline <= now) {
        sub.outstanding.delete(ackId);
        sub.queue.push({ message: o.message, deliveryAttempt: o.deliveryAttempt + 1 });
      }
    }
    while (sub.queue.length > 0 && sub.streams.length > 0) {
      const next = sub.queue.shift()!;
      const stream = sub.streams[counter++ % sub.streams.length]!;
      const ackId = `${sub.name}:${randomBytes(8).toString("hex")}`;
      sub.outstanding.set(ackId, { message: next.message, deadline: now + sub.ackDeadlineMs, deliveryAttempt: next.deliveryAttempt });
      stream.write({ receivedMessages: [{ ackId, message: next.message, deliveryAttempt: next.deliveryAttempt }] });
    }
  };
  const sweeper = setInterval(() => subscriptions.forEach(dispatch), 100);

  const find = (name: unknown) => subscriptions.get(String(name));
  const notFound = (name: unknown) => ({ code: grpc.status.NOT_FOUND, details: `Resource not found (resource=${String(name)}).` });

  const settle = (sub: FakeSubscription, ackIds: string[], ack: boolean, deadlineSeconds = 0) => {
    for (const ackId of ackIds) {
      const o = sub.outstanding.get(ackId);
      if (!o) continue;
      if (ack) {
        sub.outstanding.delete(ackId);
        acked.push(o.message.messageId);
      } else if (deadlineSeconds === 0) {
        sub.outstanding.delete(ackId);
        sub.queue.push({ message: o.message, deliveryAttempt: o.deliveryAttempt + 1 });
      } else {
        o.deadline = Date.now() + deadlineSeconds * 1000;
      }
    }
    dispatch(sub);
  };

  const server = new grpc.Server();
  server.addService(loadSubscriberService(), {
    StreamingPull: (call: StreamCall) => {
      let sub: FakeSubscription | undefined;
      call.on("data", (request: Record<string, unknown>) => {
        if (!sub) {
          sub = find(request.subscription);
          if (!sub) return void call.destroy(Object.assign(new Error("not found"), notFound(request.subscription)));
          if (Number(request.streamAckDeadlineSeconds) > 0) sub.ackDeadlineMs = Number(request.streamAckDeadlineSeconds) * 1000;
          sub.streams.push(call);
          dispatch(sub);
        }
        settle(sub, (request.ackIds as string[] | undefined) ?? [], true);
        const modifyIds = (request.modifyDeadlineAckIds as string[] | undefined) ?? [];
        const seconds = (request.modifyDeadlineSeconds as number[] | undefined) ?? [];
        modifyIds.forEach((id, i) => settle(sub!, [id], false, seconds[i] ?? 0));
      });
      const drop = () => {
        if (sub) sub.streams = sub.streams.filter((s) => s !== call);
      };
      call.on("end", () => {
        drop();
        call.end();
      });
      call.on("cancelled", drop);
      call.on("error", drop);
    },
    Acknowledge: (call: grpc.ServerUnaryCall<{ subscription: string; ackIds: string[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const sub = find(call.request.subscription);
      if (!sub) return callback(notFound(call.request.subscription));
      settle(sub, call.request.ackIds, true);
      callback(null, {});
    },
    ModifyAckDeadline: (
      call: grpc.ServerUnaryCall<{ subscription: string; ackIds: string[]; ackDeadlineSeconds: number }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const sub = find(call.request.subscription);
      if (!sub) return callback(notFound(call.request.subscription));
      settle(sub, call.request.ackIds, false, call.request.ackDeadlineSeconds);
      callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    host: `127.0.0.1:${port}`,
    acked,
    createSubscription: (name) => void subscriptions.set(name, { name, queue: [], outstanding: new Map(), streams: [], ackDeadlineMs: 10_000 }),
    publish: (subscription, data, attributes = {}) => {
      const sub = find(subscription);
      if (!sub) throw new Error(`no subscription ${subscription}`);
      const now = Date.now();
      const message: PubsubMessage = {
        data,
        attributes,
        messageId: String(counter++),
        publishTime: { seconds: String(Math.floor(now / 1000)), nanos: (now % 1000) * 1_000_000 },
      };
      sub.queue.push({ message, deliveryAttempt: 1 });
      dispatch(sub);
      return message.messageId;
    },
    outstanding: (subscription) => find(subscription)?.outstanding.size ?? 0,
    openStreams: (subscription) => find(subscription)?.streams.length ?? 0,
    close: async () => {
      clearInterval(sweeper);
      for (const sub of subscriptions.values()) for (const s of sub.streams) s.end();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
}
