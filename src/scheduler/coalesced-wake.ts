// A wake for intake that stores one message at a time at a high rate (the SMTP listener): the
// first call wakes at once, and the calls within the next `everyMs` fold into one wake at its end.
// Woken per message, the pipeline workers claimed a message or two each time, paying a batch's
// dozen statements for each; and on Postgres every wake is a NOTIFY.
// `flush` sends a wake still waiting at once (on stop: the last mail must not wait for a poll).
export function coalescedWake(wake: () => void, everyMs: number): { wake(): void; flush(): void } {
  let last = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    timer = null;
    last = performance.now();
    wake();
  };
  return {
    wake: () => {
      if (timer !== null) return;
      const since = performance.now() - last;
      if (since >= everyMs) fire();
      else timer = setTimeout(fire, everyMs - since);
    },
    flush: () => {
      if (timer === null) return;
      clearTimeout(timer);
      fire();
    },
  };
}
