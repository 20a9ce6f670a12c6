import { brotliDecompress, gunzip, inflate, type BrotliOptions, type ZlibOptions } from "node:zlib";
import { malformedRequest, requestTooLarge, unsupportedContentEncoding } from "../../core/errors.js";

/** The request body codings read: HTTP's `gzip` (and its alias `x-gzip`), `deflate` (zlib format), `br`. */
export type ContentCoding = "identity" | "gzip" | "deflate" | "br";

const CODINGS: Readonly<Record<string, ContentCoding>> = {
  identity: "identity",
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
  br: "br",
};

/**
 * The coding of a request body from its Content-Encoding. Anything else — an unknown coding, or several
 * stacked (`gzip, br`), which no client of an API sends — is refused (415) before the body is read: a
 * compressed body parsed as if it were JSON would be answered with a misleading JSON error.
 */
export function contentCodingOf(header: string | undefined): ContentCoding {
  if (header === undefined) return "identity";
  const coding = CODINGS[header.trim().toLowerCase()];
  if (coding === undefined) throw unsupportedContentEncoding(header);
  return coding;
}

type Decompress = (buf: Buffer, options: ZlibOptions & BrotliOptions, callback: (error: Error | null, result: Buffer) => void) => void;

const DECOMPRESSORS: Readonly<Record<Exclude<ContentCoding, "identity">, Decompress>> = {
  gzip: gunzip,
  deflate: inflate,
  br: brotliDecompress,
};

/**
 * Decompresses a request body. `limit` caps the *decompressed* size, and zlib stops as soon as it passes
 * it, so a small body that inflates to gigabytes (a zip bomb) costs at most `limit` bytes of memory.
 * Runs on libuv's thread pool, not the event loop.
 */
export function decompress(body: Buffer, coding: ContentCoding, limit: number): Promise<Buffer> {
  if (coding === "identity") return Promise.resolve(body);
  const run = DECOMPRESSORS[coding];
  return new Promise((resolve, reject) => {
    run(body, { maxOutputLength: limit }, (error, result) => {
      if (error === null) {
        resolve(result);
      } else if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        reject(requestTooLarge(limit));
      } else {
        const message = `The request body is not valid ${coding} data (Content-Encoding: ${coding}).`;
        reject(malformedRequest(message, undefined, message));
      }
    });
  });
}
