// Where the dispatcher's deliveries are between the claim and the recorder: claimed ahead and
// waiting for a slot (`ready`), or being sent (`in flight`), with a global limit and one per
// endpoint, so one slow endpoint cannot take every slot.
import type { ClaimedDelivery } from "../db/webhook-deliveries.ts";

export type SlotLimits = { concurrency: number; perEndpointConcurrency: number };

export type DeliverySlots = ReturnType<typeof createDeliverySlots>;

export function createDeliverySlots(limits: SlotLimits) {
  const ready: ClaimedDelivery[] = [];
  const readyPerEndpoint = new Map<string, number>();
  const inFlightPerEndpoint = new Map<string, number>();
  let inFlight = 0;
  // Claimed ahead, so a finished send is followed at once by the next one instead of by a
  // claim's round trip: at most the concurrency waits, and at most twice an endpoint's own limit
  // per endpoint (in flight and waiting together).
  const prefetch = limits.concurrency;
  const endpointCap = 2 * limits.perEndpointConcurrency;

  return {
    /** How many more deliveries a claim may take now. */
    room: () => limits.concurrency + prefetch - inFlight - ready.length,
    /** Endpoints with as many deliveries in flight and waiting as they may have: the claim skips them. */
    saturated: () =>
      [...new Set([...inFlightPerEndpoint.keys(), ...readyPerEndpoint.keys()])].filter(
        (id) => (inFlightPerEndpoint.get(id) ?? 0) + (readyPerEndpoint.get(id) ?? 0) >= endpointCap,
      ),
    addClaimed(claimed: ClaimedDelivery[]) {
      for (const d of claimed) {
        ready.push(d);
        adjust(readyPerEndpoint, d.endpointId, 1);
      }
    },
    /** Takes the waiting deliveries that have a free slot, oldest first, and counts them in flight. */
    takeStartable(): ClaimedDelivery[] {
      const started: ClaimedDelivery[] = [];
      for (let i = 0; i < ready.length && inFlight < limits.concurrency; ) {
        const d = ready[i]!;
        if ((inFlightPerEndpoint.get(d.endpointId) ?? 0) >= limits.perEndpointConcurrency) {
          i++;
          continue;
        }
        ready.splice(i, 1);
        adjust(readyPerEndpoint, d.endpointId, -1);
        inFlight++;
        adjust(inFlightPerEndpoint, d.endpointId, 1);
        started.push(d);
      }
      return started;
    },
    finished(d: ClaimedDelivery) {
      inFlight--;
      adjust(inFlightPerEndpoint, d.endpointId, -1);
    },
    /** Empties the waiting list (its deliveries go back to the database); in-flight ones stay. */
    takeAllReady(): ClaimedDelivery[] {
      readyPerEndpoint.clear();
      return ready.splice(0);
    },
    inFlight: () => inFlight,
    waiting: () => ready.length,
  };
}

/** Adds `by` to a count in `counts`, dropping it at zero. */
function adjust(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
