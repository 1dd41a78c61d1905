/// <reference lib="dom" />
// Requests to the /v1 API and what the page says when one fails. A read key, when the
// service needs one, is entered once and kept in sessionStorage (gone with the tab), sent
// as a bearer header and never put in a URL.

const KEY_ITEM = "fleet-telemetry.api-key";

/** An answer that is not 2xx, in the API's one error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const readKey = () => sessionStorage.getItem(KEY_ITEM) ?? "";
export const saveKey = (key: string) => sessionStorage.setItem(KEY_ITEM, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_ITEM);

async function request(path: string): Promise<Response> {
  const key = readKey();
  const response = await fetch(path, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  if (response.ok) return response;
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code: string; message: string } };
    if (body.error) ({ code, message } = body.error);
  } catch {
    // not the error shape (a proxy's page, say): keep the status line
  }
  throw new ApiError(response.status, code, message);
}

export async function api<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

/**
 * Saves what `path` answers as a file, named as the service names it. The request carries
 * the key, which a plain link could not: the answer is handed to the browser as a blob.
 */
export async function download(path: string): Promise<void> {
  const response = await request(path);
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? "export.csv";
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A failure in words for the message box: what went wrong and what the reader can do. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return `The service could not be reached (${String(error)}).`;
  if (error.status === 401) {
    // With no key the service simply needs one; with one, that key is the problem.
    return readKey()
      ? "The API key was refused: it is not valid or has been revoked. Enter another one above."
      : "This service needs an API key with the read scope. Enter it above; it is kept for this tab only.";
  }
  if (error.status === 403) return "This API key lacks the read scope. Use a key with the read (or admin) scope.";
  if (error.status === 429) return "Too many requests: the service asked to slow down. The next refresh will retry.";
  return `${error.message} (${error.code})`;
}
