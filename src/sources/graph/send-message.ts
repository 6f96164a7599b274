// Sending one outgoing message (its MIME built once, outbound/build-message.ts) through a Microsoft
// 365 source: POST /me/sendMail in its MIME form (the bytes base64, Content-Type: text/plain), and
// what Graph's answer means for the outbox. Needs Mail.Send, which sources authorized before #25
// lack (granted-scopes.ts, canSend): their mail waits for re-authorization rather than failing.
import { withBccHeader } from "../../outbound/build-message.ts";
import { ResponseType, RetryHandlerOptions } from "@microsoft/microsoft-graph-client";
import type { GraphFailure } from "./graph-failure.ts";
import { HttpFailure, requestTimeout, type GraphSession } from "./graph-session.ts";

export type GraphSendOutcome =
  /**
   * sendMail answers 202 with no body: Graph gives no id for what it sent. `providerId` is the
   * MIME's own Message-ID, the one handle on the sent item (its internetMessageId), null without one.
   * Graph does not say which conversation it filed the message in, so `threadId` is always null.
   */
  | { kind: "sent"; providerId: string | null; threadId: null }
  /** The grant cannot send (revoked, expired, or without Mail.Send): the message waits for re-authorization. */
  | { kind: "waiting_for_authorization"; error: string }
  | { kind: "transient"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string };

/** The words every waiting message carries: what the administrator does about it. */
export const REAUTHORIZE_TO_SEND = "re-authorize to allow sending";

/**
 * One attempt per call: the outbox retries with its own backoff and Retry-After, recording each
 * attempt; a retry inside the client would hold the outbox's lease through Graph's waits, unseen.
 */
const ONE_ATTEMPT = new RetryHandlerOptions(0, 0);

/** 403s that signing in again does not cure: the mailbox may not send as this From, or may not send at all. */
const FINAL_REFUSALS = new Set(["errorsendasdenied", "errormessagesubmissionblocked"]);

/**
 * `bcc` are the addresses that travel in no header of the built MIME: Graph takes every recipient
 * from the MIME's To, Cc and Bcc, so they are added as a Bcc header for Graph, which keeps it from
 * the other recipients.
 */
export async function sendViaGraph(session: GraphSession, raw: Buffer, bcc: readonly string[] = []): Promise<GraphSendOutcome> {
  const bccProblem = bcc.find((address) => !PLAIN_ADDRESS.test(address));
  if (bccProblem !== undefined) return { kind: "permanent", error: `The Bcc address ${JSON.stringify(bccProblem)} is not a plain email address.` };
  let res: Response;
  try {
    res = (await session.client
      .api("/me/sendMail")
      .header("Content-Type", "text/plain")
      .responseType(ResponseType.RAW)
      .middlewareOptions([ONE_ATTEMPT])
      .option("signal", requestTimeout())
      .post(withBccHeader(raw, bcc).toString("base64"))) as Response;
  } catch (err) {
    // No answer (a timeout, a dropped connection) may still mean Graph took the message: retrying
    // it may send it twice, the window the README documents.
    return failedSend(session.failureOf(err), false);
  }
  if (res.ok) {
    await res.body?.cancel();
    return { kind: "sent", providerId: messageIdOf(raw), threadId: null };
  }
  const answer = await graphErrorOf(res);
  return failedSend(session.failureOf(answer), answer.retryAfter !== null);
}

function failedSend(failure: GraphFailure, retryAfterGiven: boolean): Exclude<GraphSendOutcome, { kind: "sent" }> {
  switch (failure.kind) {
    case "reauth":
      return { kind: "waiting_for_authorization", error: `Microsoft does not accept this source's sign-in (${failure.message}); ${REAUTHORIZE_TO_SEND}.` };
    case "throttled":
      return {
        kind: "transient",
        error: `Microsoft Graph is throttling this mailbox (${failure.message}); sending is retried.`,
        ...(retryAfterGiven ? { retryAfterMs: failure.retryAfterMs } : {}),
      };
    case "transient":
      return { kind: "transient", error: `Microsoft Graph could not take the message (${failure.message}); sending is retried.` };
    case "rejected":
      if (failure.status === 401) {
        return { kind: "waiting_for_authorization", error: `Microsoft Graph refused the access token (${failure.message}); ${REAUTHORIZE_TO_SEND}.` };
      }
      if (failure.status === 403 && !FINAL_REFUSALS.has(failure.code.toLowerCase())) {
        return {
          kind: "waiting_for_authorization",
          error: `Microsoft 365 refused to send (${failure.code}: ${failure.message}): the source was authorized without the Mail.Send permission; ${REAUTHORIZE_TO_SEND}.`,
        };
      }
      return { kind: "permanent", error: `Microsoft 365 refused the message (${failure.code}): ${failure.message}` };
    case "not_found":
    case "sync_state_lost":
      return { kind: "permanent", error: `Microsoft 365 refused the message: ${failure.message}` };
  }
}

/** Graph's error body read into the failure graph-session classifies, its message in Graph's own words. */
async function graphErrorOf(res: Response): Promise<HttpFailure> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  return new HttpFailure(
    res.status,
    body?.error?.code ?? null,
    body?.error?.message || `Microsoft Graph answered ${res.status}`,
    res.headers.get("Retry-After"),
  );
}

/** An address alone, nothing that could end the header line or add a recipient. */
const PLAIN_ADDRESS = /^[^\s<>,;:"()[\]\\]+@[^\s<>,;:"()[\]\\]+$/;


/** The Message-ID header of the MIME's top-level headers, or null. */
export function messageIdOf(raw: Buffer): string | null {
  const end = Math.min(...[raw.indexOf("\n\r\n"), raw.indexOf("\n\n")].filter((i) => i >= 0), raw.length);
  const head = raw.toString("latin1", 0, end).replace(/\r?\n[ \t]+/g, " ");
  return /^message-id:[ \t]*(<[^>\r\n]+>)/im.exec(head)?.[1] ?? null;
}

export { withBccHeader };
