// Request guards shared by the write routes: the content type and encoding a route speaks,
// and how large a body it will read. Each answers in the one error shape before any body
// is parsed.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "./errors.ts";

const mediaTypeOf = (header: string | undefined) => (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

/**
 * Bodies are read as sent: a compressed one would only fail later as malformed JSON, and
 * decompressing would let a small body grow past the size caps. So any Content-Encoding
 * but identity is a 415 that names the header.
 */
function refuseEncodedBody(header: string | undefined) {
  const encodings = (header ?? "")
    .split(",")
    .map((encoding) => encoding.trim().toLowerCase())
    .filter((encoding) => encoding && encoding !== "identity");
  if (encodings.length > 0) {
    throw new AppError(
      415,
      "unsupported_encoding",
      `Content-Encoding ${encodings.join(", ")} is not supported; send the body uncompressed (identity)`,
    );
  }
}

export const requireMediaType =
  (...accepted: string[]): MiddlewareHandler =>
  async (c, next) => {
    refuseEncodedBody(c.req.header("content-encoding"));
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

export const incompleteBody = () =>
  new AppError(400, "incomplete_body", "the request body ended before it was complete");

/**
 * Refuses bodies over `maxBytes` with 413. Without a Content-Length the limiter reads the
 * stream itself; a stream that breaks off there (the client went away) is the client's
 * fault, a 400, not a server error. Errors after the body was read pass through as they are.
 */
export const limitBody = (maxBytes: number): MiddlewareHandler => {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError(413, "payload_too_large", `request body is larger than ${maxBytes} bytes`);
    },
  });
  return async (c, next) => {
    let isBodyRead = false;
    try {
      return await limit(c, () => {
        isBodyRead = true;
        return next();
      });
    } catch (error) {
      if (isBodyRead || error instanceof AppError) throw error;
      throw incompleteBody();
    }
  };
};
