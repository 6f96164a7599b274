// POST /v1.0/me/sendMail in its MIME form, as Microsoft documents it ("Send messages with MIME
// content"): Content-Type text/plain, the whole message base64 in the body, 202 with no body. The
// recipients are the MIME's To, Cc and Bcc; the sender must be the mailbox itself; the token must
// carry Mail.Send. What the fake accepted is kept for tests to parse.
import { simpleParser, type AddressObject } from "mailparser";
import { graphError, type GraphAnswer } from "./fake-subscriptions.ts";

export type SentMail = {
  /** The decoded MIME, as Graph received it (Bcc header included). */
  raw: Buffer;
  /** Every address the message goes to: To, Cc and Bcc. */
  recipients: string[];
  bcc: string[];
};

export type SendMailRequest = {
  contentType: string | undefined;
  body: Buffer;
  /** Does the bearer token carry Mail.Send? */
  maySend: boolean;
  mailbox: string;
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Graph's answer, and the message when it was accepted. */
export async function acceptSendMail(req: SendMailRequest): Promise<{ answer: GraphAnswer; sent?: SentMail }> {
  if (!req.maySend) return refuse(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
  if ((req.contentType ?? "").split(";")[0]!.trim().toLowerCase() !== "text/plain") {
    return refuse(415, "UnsupportedMediaType", `This fake speaks sendMail's MIME form only (Content-Type: text/plain), not '${req.contentType ?? ""}'.`);
  }
  const text = req.body.toString("latin1").replace(/\s+/g, "");
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) {
    return refuse(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.");
  }
  const raw = Buffer.from(text, "base64");
  const parsed = await simpleParser(raw);
  const from = parsed.from?.value[0]?.address;
  if (!from) return refuse(400, "ErrorMimeContentInvalid", "Invalid MIME content.");
  if (from.toLowerCase() !== req.mailbox.toLowerCase()) {
    return refuse(
      403,
      "ErrorSendAsDenied",
      "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.",
    );
  }
  const to = [...addresses(parsed.to), ...addresses(parsed.cc)];
  const bcc = addresses(parsed.bcc);
  const recipients = [...to, ...bcc];
  if (recipients.length === 0) {
    return refuse(400, "ErrorInvalidRecipients", "At least one recipient is not valid., A message can't be sent because it contains no recipients.");
  }
  const unresolved = recipients.find((a) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a));
  if (unresolved !== undefined) {
    return refuse(
      400,
      "ErrorInvalidRecipients",
      `At least one recipient is not valid., Recipient '${unresolved}' is not resolved. All recipients must be resolved before a message can be submitted.`,
    );
  }
  return { answer: { status: 202 }, sent: { raw, recipients, bcc } };
}

const refuse = (status: number, code: string, message: string) => ({ answer: graphError(status, code, message) });

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => o.value).flatMap((a) => (a.group ? a.group.map((g) => g.address || g.name) : [a.address || a.name]));
}
