// The admin API's bodies are JSON. A body declared as something else (a form, XML, text) is
// refused with 415 rather than parsed as JSON regardless; a request without a body (GET, DELETE,
// a POST action such as /test) needs no Content-Type.
import express, { type Request, type RequestHandler } from "express";
import { AppError, payloadTooLarge } from "../errors.ts";
import { withTooLarge } from "./body-limit.ts";

const JSON_BODY_LIMIT_BYTES = 1024 * 1024;
const JSON_TYPES = ["application/json", "application/*+json"];

const hasBody = (req: Request) => req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;

export const requireJsonContentType: RequestHandler = (req, _res, next) => {
  if (!hasBody(req) || req.is(JSON_TYPES)) return next();
  const declared = req.headers["content-type"]?.slice(0, 100);
  next(
    new AppError(
      "unsupported_media_type",
      415,
      `Send the body as JSON with 'Content-Type: application/json' (${declared ? `not '${declared}'` : "the request declared no Content-Type"}).`,
      { contentType: declared ?? null, accepted: JSON_TYPES },
    ),
  );
};

export const jsonBody: RequestHandler = withTooLarge(express.json({ limit: JSON_BODY_LIMIT_BYTES, type: JSON_TYPES }), () =>
  payloadTooLarge("The request body", JSON_BODY_LIMIT_BYTES, "this limit is fixed: send less in one request."),
);
