// A bench's fake provider in a process of its own, so that its CPU is counted apart from
// mailgate's: the parent forks it and sends it calls over IPC, one promise per call; the child
// answers each call, and closes when the parent disconnects.
import { fork, type ChildProcess } from "node:child_process";

export type BenchChild<Call> = { call(call: Call): Promise<unknown>; stop(): void };

type Answer = { ready?: true; id?: number; result?: unknown; error?: string };

/** The parent's side: forks `script` and resolves once it said it is ready. `name` words its errors. */
export async function startBenchChild<Call>(script: URL, name: string): Promise<BenchChild<Call>> {
  const child: ChildProcess = fork(script, { serialization: "advanced" });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${name}'s process exited with ${code} before it was ready`)));
    child.on("message", (m: Answer) => {
      if (m.ready) return resolve();
      const w = waiting.get(m.id!);
      waiting.delete(m.id!);
      if (m.error !== undefined) w?.reject(new Error(`${name}: ${m.error}`));
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

/** The child's side: answers every call with `answer`, runs `close` when the parent goes, then says it is ready. */
export function serveBenchCalls<Call>(answer: (call: Call) => Promise<unknown>, close: () => Promise<void>): void {
  process.on("message", (m: { id: number; call: Call }) => {
    answer(m.call).then(
      (result) => process.send!({ id: m.id, result }),
      (err: unknown) => process.send!({ id: m.id, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
  process.on("disconnect", () => void close().then(() => process.exit(0)));
  process.send!({ ready: true });
}
