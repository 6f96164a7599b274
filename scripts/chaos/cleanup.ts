// What must be undone however the suite ends (done, failed, Ctrl-C): processes it started, the
// private server, temp dirs. Undone last-registered first, each at most once.
const pending: { label: string; undo: () => Promise<void> | void }[] = [];

/** Registers an undo step; the returned function runs it now (and forgets it). */
export function onCleanup(label: string, undo: () => Promise<void> | void): () => Promise<void> {
  const entry = { label, undo };
  pending.push(entry);
  return async () => {
    const i = pending.indexOf(entry);
    if (i < 0) return;
    pending.splice(i, 1);
    await entry.undo();
  };
}

export async function cleanUpAll(): Promise<void> {
  while (pending.length > 0) {
    const entry = pending.pop()!;
    try {
      await entry.undo();
    } catch (err) {
      console.error(`chaos: cleaning up ${entry.label} failed:`, err);
    }
  }
}
