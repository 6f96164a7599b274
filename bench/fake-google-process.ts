// The fake Google of bench:gmail in a process of its own, so that its CPU (the HTTP server, the
// RS256 signing of Pub/Sub's push tokens, the push request itself) is counted apart from
// mailgate's. Driven over the IPC channel by bench/gmail.ts: one request {id, method, args}, one
// answer {id, result} or {id, error}.
import { PUSH_SERVICE_ACCOUNT, startFakeGoogle } from "../tests/fakes/google/fake-google.ts";

export type FakeGoogleCall =
  | { method: "describe" }
  | { method: "consent"; url: string }
  /** New mail in the fake mailbox; answers its message id. */
  | { method: "deliver"; raw: Uint8Array }
  /** POSTs Pub/Sub's push for the mailbox as it is now to the endpoint, as Google would. */
  | { method: "push"; endpoint: string; audience: string }
  /** A Pub/Sub push token for the audience, as the fake's Google signs them. */
  | { method: "pushToken"; audience: string }
  | { method: "stats" };

export type PushTiming = { sentAt: number; ackMs: number; status: number; body: string };

const google = await startFakeGoogle();
/** Milliseconds on a clock shared with the parent process. */
const now = () => performance.timeOrigin + performance.now();

async function answer(call: FakeGoogleCall): Promise<unknown> {
  switch (call.method) {
    case "describe":
      return { env: google.env(), client: google.client, emailAddress: google.mailbox.emailAddress, serviceAccount: PUSH_SERVICE_ACCOUNT };
    case "consent":
      return google.consent(call.url);
    case "deliver":
      return (await google.deliver(Buffer.from(call.raw), { notify: false })).message.id;
    case "push": {
      const request = google.pushRequest({ token: google.oauth.signPushToken({ audience: call.audience, email: PUSH_SERVICE_ACCOUNT }) });
      const sentAt = now();
      const res = await fetch(call.endpoint, { method: "POST", headers: request.headers, body: JSON.stringify(request.body) });
      const ackMs = now() - sentAt;
      const timing: PushTiming = { sentAt, ackMs, status: res.status, body: await res.text() };
      return timing;
    }
    case "pushToken":
      return google.oauth.signPushToken({ audience: call.audience, email: PUSH_SERVICE_ACCOUNT });
    case "stats":
      return {
        cpu: process.cpuUsage(),
        gmailCalls: google.requests.filter((r) => r.path.startsWith("/gmail/")).length,
        tokenRefreshes: google.oauth.tokenRequests.filter((r) => r.grantType === "refresh_token").length,
      };
  }
}

process.on("message", (m: { id: number; call: FakeGoogleCall }) => {
  answer(m.call).then(
    (result) => process.send!({ id: m.id, result }),
    (err: unknown) => process.send!({ id: m.id, error: err instanceof Error ? err.stack : String(err) }),
  );
});
process.on("disconnect", () => void google.close().then(() => process.exit(0)));
process.send!({ ready: true });
