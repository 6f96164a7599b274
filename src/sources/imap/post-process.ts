// What happens on the server to a message once mailgate has stored it: nothing, \Seen, or a move.
import type { ImapFlow } from "imapflow";
import type { ImapConfig } from "../source-config.ts";
import { toSequenceSet } from "./sequence-set.ts";

export async function postProcess(client: ImapFlow, action: ImapConfig["postProcess"], uids: readonly number[]): Promise<void> {
  if (uids.length === 0) return;
  const set = toSequenceSet(uids);
  switch (action.action) {
    case "none":
      return;
    case "mark_seen":
      await client.messageFlagsAdd(set, ["\\Seen"], { uid: true });
      return;
    case "move":
      if (!action.folder) throw new Error('post-processing "move" needs a folder');
      await client.messageMove(set, action.folder, { uid: true });
      return;
  }
}

/** Creates the folder processed mail is moved to, when it does not exist yet. */
export async function ensureMoveTarget(client: ImapFlow, action: ImapConfig["postProcess"]): Promise<void> {
  if (action.action !== "move" || !action.folder) return;
  const folders = await client.list();
  if (folders.some((f) => f.path === action.folder)) return;
  await client.mailboxCreate(action.folder);
}

/** A tagged NO/BAD: the server refused this command but the connection is fine. */
export const isServerRefusal = (err: unknown) => {
  const status = (err as { responseStatus?: unknown } | null)?.responseStatus;
  return status === "NO" || status === "BAD";
};
