// Dovecot's own count of mailgate's IMAP sessions: `doveadm who -1` (one line per session, from
// anvil) every 500 ms, keeping only sessions from 127.0.0.1 (the bench's own clients connect from
// 127.0.0.2). The sampler remembers the most sessions any one user had at once: mailgate holds a
// mailbox with one connection, so two mean the mailbox was held twice.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
export const SAMPLE_MS = 500;
const MAILGATE_ADDRESS = "127.0.0.1";

/** Sessions per user from mailgate's address; null while Dovecot does not answer (it is down). */
export async function mailgateSessions(conf: string): Promise<Map<string, number> | null> {
  let stdout: string;
  try {
    ({ stdout } = await run("doveadm", ["-c", conf, "who", "-1"], { maxBuffer: 64 * 1024 * 1024 }));
  } catch {
    return null;
  }
  const perUser = new Map<string, number>();
  for (const line of stdout.split("\n").slice(1)) {
    const [user, , , ip] = line.trim().split(/\s+/);
    if (user && ip === MAILGATE_ADDRESS) perUser.set(user, (perUser.get(user) ?? 0) + 1);
  }
  return perUser;
}

export type SessionSampler = {
  /** Users with at least one mailgate session in the latest answer (0 while Dovecot is down). */
  users(): number;
  /** The most sessions one user had in any sample so far, and who. */
  most(): { sessions: number; user: string | null };
  samples(): number;
  /** Answers asked for so far, Dovecot up or down: a wait for a sample taken after some moment counts these. */
  asked(): number;
  stop(): Promise<void>;
};

export function sampleSessions(conf: string): SessionSampler {
  let latest = new Map<string, number>();
  let most = { sessions: 0, user: null as string | null };
  let samples = 0;
  let asked = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const perUser = await mailgateSessions(conf);
      latest = perUser ?? new Map();
      asked++;
      if (perUser) samples++;
      for (const [user, sessions] of latest) if (sessions > most.sessions) most = { sessions, user };
      await new Promise((r) => setTimeout(r, Math.max(0, SAMPLE_MS - (Date.now() - started))));
    }
  })();
  return {
    users: () => latest.size,
    most: () => most,
    samples: () => samples,
    asked: () => asked,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
