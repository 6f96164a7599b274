// The value of the loop header (X-Mailgate-Loop) on the mail this deployment sends: derived from
// its secret key, so every instance of it writes and recognises the same token, and another
// mailgate's mail (a customer's helpdesk answering us) is not taken for our own and ignored.
import type { Context } from "../context.ts";
import { LOOP_HEADER } from "../pipeline/classify.ts";

export const ownLoopToken = (ctx: Pick<Context, "secrets">): string => ctx.secrets.fingerprint(LOOP_HEADER);
