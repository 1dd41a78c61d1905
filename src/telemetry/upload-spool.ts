// Where an upload's validated rows wait while the client is still sending, so that no
// database connection is held for the length of a client's transfer: in memory up to a
// bound, then in a temporary file. The file is unlinked as soon as it is opened, so it
// vanishes with its last handle, even when the process is killed mid-upload.
// The rows can be read back any number of times (a write that is retried reads them again).
import { randomBytes } from "node:crypto";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../http/errors.ts";

const READ_BYTES = 256 * 1024;

export interface SpoolOptions {
  /** Bytes kept in memory before the rows move to a file (UPLOAD_SPOOL_MEMORY_BYTES). */
  maxMemoryBytes: number;
  /** The directory of the files (UPLOAD_SPOOL_DIR). */
  dir: string;
}

export class UploadSpool {
  private chunks: Buffer[] = [];
  private memoryBytes = 0;
  private file?: FileHandle;
  private fileBytes = 0;

  constructor(private readonly options: SpoolOptions) {}

  get bytes(): number {
    return this.memoryBytes + this.fileBytes;
  }

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text);
    if (!this.file && this.memoryBytes + chunk.byteLength <= this.options.maxMemoryBytes) {
      this.chunks.push(chunk);
      this.memoryBytes += chunk.byteLength;
      return;
    }
    if (!this.file) {
      this.file = await this.openFile();
      await this.append(Buffer.concat(this.chunks));
      this.chunks = [];
      this.memoryBytes = 0;
    }
    await this.append(chunk);
  }

  /** Everything written, from the start. */
  async *read(): AsyncGenerator<Buffer> {
    yield* this.chunks;
    const file = this.file;
    if (!file) return;
    for (let position = 0; position < this.fileBytes; ) {
      const buffer = Buffer.alloc(Math.min(READ_BYTES, this.fileBytes - position));
      const { bytesRead } = await file.read(buffer, 0, buffer.byteLength, position);
      if (bytesRead === 0) throw new Error("the upload's spool file ended early");
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  }

  async discard(): Promise<void> {
    this.chunks = [];
    this.memoryBytes = 0;
    await this.file?.close();
    this.file = undefined;
  }

  private async append(buffer: Buffer) {
    try {
      await (this.file as FileHandle).write(buffer, 0, buffer.byteLength, this.fileBytes);
    } catch (error) {
      throw spoolUnavailable(error);
    }
    this.fileBytes += buffer.byteLength;
  }

  private async openFile(): Promise<FileHandle> {
    const path = join(this.options.dir, `fleet-upload-${randomBytes(8).toString("hex")}.tsv`);
    let file: FileHandle;
    try {
      file = await open(path, "wx+", 0o600);
    } catch (error) {
      throw spoolUnavailable(error);
    }
    await unlink(path);
    return file;
  }
}

/** No room to stage an upload (the spool directory is missing, full or not writable). */
function spoolUnavailable(cause: unknown) {
  const reason = (cause as { code?: string }).code ?? "error";
  return new AppError(
    503,
    "upload_spool_unavailable",
    `the upload could not be staged (${reason}); retry later`,
    undefined,
    {
      "Retry-After": "30",
    },
  );
}

/** How many uploads may be staged at once (UPLOAD_CONCURRENCY): each may hold memory and disk. */
export class UploadGate {
  private active = 0;

  constructor(readonly limit: number) {}

  /** Takes a place, or refuses with 503 when all are taken; answers how to give it back. */
  enter(): () => void {
    if (this.active >= this.limit) {
      throw new AppError(
        503,
        "uploads_busy",
        `${this.limit} uploads are already being received; retry shortly`,
        undefined,
        { "Retry-After": "10" },
      );
    }
    this.active++;
    let isReleased = false;
    return () => {
      if (!isReleased) this.active--;
      isReleased = true;
    };
  }
}
