// Gauges read from the database when Prometheus scrapes, one query each. When the database is
// down they are left out of the answer (mailgate_database_up says why) instead of failing it.
import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../context.ts";
import type { Db } from "../db/client.ts";
import type { Logger } from "../log.ts";
import {
  countMessagesBySourceAndStatus,
  deliveryBacklog,
  sourceStatuses,
  subscriptionExpiries,
} from "../db/metric-snapshots.ts";

export type DatabaseGaugeDeps = { db: Db; clock: Clock; log: Logger; databaseUp: () => boolean };

export function registerDatabaseGauges(registry: Registry, deps: DatabaseGaugeDeps): void {
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (g: Gauge<L>) => Promise<void>) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        // Rows that vanished since the last scrape (a deleted source) must not linger.
        this.reset();
        if (!deps.databaseUp()) return;
        try {
          await fill(this);
        } catch (err) {
          this.reset();
          deps.log.warn({ err, metric: name }, "reading a metric from the database failed; it is left out of this scrape");
        }
      },
    });

  gauge("mailgate_messages", "Inbound messages by source and status.", ["source", "status"], async (g) => {
    for (const row of await countMessagesBySourceAndStatus(deps.db)) {
      g.set({ source: row.sourceId ?? "none", status: row.status }, row.count);
    }
  });

  gauge(
    "mailgate_webhook_retry_backlog",
    "Pending webhook deliveries: state=retrying (failed at least once), state=due (due now, not yet sent).",
    ["state"],
    async (g) => {
      const backlog = await deliveryBacklog(deps.db, deps.clock.now());
      g.set({ state: "retrying" }, backlog.retrying);
      g.set({ state: "due" }, backlog.due);
    },
  );

  gauge(
    "mailgate_source_status",
    "1 for each mail source's current connection status (connecting, connected, error, needs_reauth, disabled).",
    ["source", "kind", "name", "status"],
    async (g) => {
      for (const s of await sourceStatuses(deps.db)) g.set({ source: s.id, kind: s.kind, name: s.name, status: s.status }, 1);
    },
  );

  gauge(
    "mailgate_push_subscription_expiry_seconds",
    "Seconds until each Gmail watch or Graph subscription expires (negative: already expired).",
    ["subscription", "source", "provider"],
    async (g) => {
      const now = deps.clock.now().getTime();
      for (const s of await subscriptionExpiries(deps.db)) {
        if (!s.expiresAt) continue;
        g.set({ subscription: s.id, source: s.sourceId, provider: s.provider }, (s.expiresAt.getTime() - now) / 1000);
      }
    },
  );
}
