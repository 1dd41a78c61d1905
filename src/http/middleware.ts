// Request guards shared by the write routes: the content type a route speaks, and how large
// a body it will read. Both answer in the one error shape before any body is parsed.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "./errors.ts";

const mediaTypeOf = (header: string | undefined) => (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

export const requireMediaType =
  (...accepted: string[]): MiddlewareHandler =>
  async (c, next) => {
    const mediaType = mediaTypeOf(c.req.header("content-type"));
    if (!accepted.includes(mediaType)) {
      throw new AppError(
        415,
        "unsupported_media_type",
        `Content-Type must be ${accepted.join(" or ")}${mediaType ? `, not ${mediaType}` : ""}`,
      );
    }
    await next();
  };

export const requireJson = requireMediaType("application/json");

export const limitBody = (maxBytes: number): MiddlewareHandler =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError(413, "payload_too_large", `request body is larger than ${maxBytes} bytes`);
    },
  });
