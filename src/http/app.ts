// createApp builds the HTTP surface and listens nowhere: main.ts and the tests do that.
import express, { type Express } from "express";
import type { Context } from "../context.js";
import { requireAdminToken } from "./auth.js";
import { errorMiddleware } from "./error-middleware.js";
import { notFound } from "../errors.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { errorLogRoutes } from "./routes/errors.js";
import { companyRoutes } from "./routes/companies.js";
import { contactRoutes } from "./routes/contacts.js";
import { techRoutes } from "./routes/techs.js";
import { jobTypeRoutes } from "./routes/job-types.js";
import { settingsRoutes } from "./routes/settings.js";
import { sourceRoutes } from "./routes/sources.js";
import { inboundRoutes } from "./routes/inbound.js";
import { ticketRoutes } from "./routes/tickets.js";
import { inboundMessageRoutes } from "./routes/inbound-messages.js";
import { attachmentRoutes } from "./routes/attachments.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { subscriptionRoutes } from "./routes/subscriptions.js";
import { gmailRoutes } from "../sources/gmail/routes.js";
import { graphRoutes } from "../sources/graph/routes.js";
import { consoleRoutes } from "./routes/console.js";

export function createApp(ctx: Context): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", true);

  app.use(healthRoutes(ctx));
  app.use(consoleRoutes());
  app.use(metricsRoutes(ctx));
  // Provider endpoints authenticate by their own mechanism (OIDC token, clientState, OAuth state).
  app.use(gmailRoutes(ctx));
  app.use(graphRoutes(ctx));

  const api = express.Router();
  api.use(requireAdminToken(ctx.adminToken));
  // Raw MIME intake reads its own body (message/rfc822, up to MAX_MESSAGE_BYTES); everything else is JSON.
  api.use(inboundRoutes(ctx));
  api.use(express.json({ limit: "1mb", type: () => true }));
  api.use(companyRoutes(ctx));
  api.use(contactRoutes(ctx));
  api.use(techRoutes(ctx));
  api.use(jobTypeRoutes(ctx));
  api.use(settingsRoutes(ctx));
  api.use(sourceRoutes(ctx));
  api.use(inboundMessageRoutes(ctx));
  api.use(ticketRoutes(ctx));
  api.use(attachmentRoutes(ctx));
  api.use(webhookRoutes(ctx));
  api.use(subscriptionRoutes(ctx));
  api.use(errorLogRoutes(ctx));
  api.use((req, _res, next) => next(notFound(`Route ${req.method} /api${req.path}`)));
  app.use("/api", api);

  app.use((req, _res, next) => next(notFound(`Route ${req.method} ${req.path}`)));
  app.use(errorMiddleware(ctx.log, ctx.databaseOutage));
  return app;
}
