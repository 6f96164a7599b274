// The parent's side of bench/fake-google-process.ts: forks it and sends it calls over IPC, one
// promise per call, so that bench:gmail and bench:gmail-sources drive the same child.
import { fork, type ChildProcess } from "node:child_process";
import type { FakeGoogleCall } from "./fake-google-process.ts";

/** The fake Google's process, and a call that answers what it answered. */
export async function startFakeGoogleProcess(): Promise<{ call(call: FakeGoogleCall): Promise<unknown>; stop(): void }> {
  const child: ChildProcess = fork(new URL("./fake-google-process.ts", import.meta.url), { serialization: "advanced" });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the fake Google's process exited with ${code} before it was ready`)));
    child.on("message", (m: { ready?: true; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) return resolve();
      const w = waiting.get(m.id!);
      waiting.delete(m.id!);
      if (m.error !== undefined) w?.reject(new Error(`fake Google: ${m.error}`));
      else w?.resolve(m.result);
    });
  });
  child.removeAllListeners("exit");
  return {
    call: (call) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        child.send({ id, call });
      }),
    stop: () => child.disconnect(),
  };
}
