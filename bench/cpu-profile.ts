// A CPU profile of one phase of a bench (BENCH_CPU_PROFILE=<dir>): the inspector's profiler runs
// in-process from start to stop, so start-up and set-up stay out of it. Open the file in Chrome
// DevTools or speedscope.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";

export async function startCpuProfile(dir: string | undefined, name: string): Promise<{ stop(): Promise<string | null> }> {
  if (!dir) return { stop: async () => null };
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return {
    stop: async () => {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name}-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}
