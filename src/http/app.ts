// createApp builds the HTTP surface and listens nowhere: main.ts and the tests do that.
import express, { type Express } from "express";
import type { Context } from "../context.ts";
import { requireAdminToken } from "./auth.ts";
import { errorMiddleware } from "./error-middleware.ts";
import { notFound } from "../errors.ts";
import { jsonBody, requireJsonContentType } from "./json-body.ts";
import { outboundRoutes } from "./routes/outbound.ts";
import { refuseNulInBody, refuseNulInUrl } from "./validate.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { errorLogRoutes } from "./routes/errors.ts";
import { companyRoutes } from "./routes/companies.ts";
import { contactRoutes } from "./routes/contacts.ts";
import { techRoutes } from "./routes/techs.ts";
import { jobTypeRoutes } from "./routes/job-types.ts";
import { settingsRoutes } from "./routes/settings.ts";
import { sourceRoutes } from "./routes/sources.ts";
import { inboundRoutes } from "./routes/inbound.ts";
import { ticketRoutes } from "./routes/tickets.ts";
import { inboundMessageRoutes } from "./routes/inbound-messages.ts";
import { attachmentRoutes } from "./routes/attachments.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { subscriptionRoutes } from "./routes/subscriptions.ts";
import { statsRoutes } from "./routes/stats.ts";
import { gmailRoutes } from "../sources/gmail/routes.ts";
import { graphRoutes } from "../sources/graph/routes.ts";
import { consoleRoutes } from "./routes/console.ts";
import { inboundWebhookRoutes } from "../sources/inbound-webhook/routes.ts";
import { createSesVerifier } from "../sources/inbound-webhook/sns-client.ts";

export function createApp(ctx: Context): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", true);
  // Postgres cannot store a NUL character: one in a path or query is refused here for every route.
  app.use(refuseNulInUrl);

  app.use(healthRoutes(ctx));
  app.use(consoleRoutes());
  app.use(metricsRoutes(ctx));
  // Provider endpoints authenticate by their own mechanism (OIDC token, clientState, OAuth state,
  // a mail service's signature or Basic credentials).
  app.use(gmailRoutes(ctx));
  app.use(graphRoutes(ctx));
  app.use(inboundWebhookRoutes(ctx, createSesVerifier(ctx.config.sns)));

  const api = express.Router();
  api.use(requireAdminToken(ctx.adminToken));
  // Raw MIME intake reads its own body (message/rfc822, up to MAX_MESSAGE_BYTES); everything else is JSON.
  api.use(inboundRoutes(ctx));
  // Before the admin API's JSON parser: a reply's attachments need a larger body limit.
  api.use(outboundRoutes(ctx));
  api.use(requireJsonContentType, jsonBody, refuseNulInBody);
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
  api.use(statsRoutes(ctx));
  api.use((req, _res, next) => next(notFound(`Route ${req.method} /api${req.path}`)));
  app.use("/api", api);

  app.use((req, _res, next) => next(notFound(`Route ${req.method} ${req.path}`)));
  app.use(errorMiddleware(ctx.log, ctx.databaseOutage));
  return app;
}
