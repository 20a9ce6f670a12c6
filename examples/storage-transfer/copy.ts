/**
 * The file work of a transfer, kept apart from the operation bookkeeping: listing a source tree, telling
 * whether a sink copy is already up to date, and copying one file so that the sink never shows it half
 * written.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Code, RpcError } from "../../src/index.js";

/** What a file being copied is called in the sink until it is complete (then it is renamed into place). */
export const PARTIAL_SUFFIX = ".partial";

export interface SourceFile {
  /** Relative to the source root, `/`-separated. */
  path: string;
  size: bigint;
  /** Modification time in nanoseconds since the epoch. */
  mtimeNs: bigint;
}

export interface SourceListing {
  /** Regular files, sorted by path (symbolic links and special files are skipped). */
  files: SourceFile[];
  /** Directories found, the root included (TransferCounters.directories_found_from_source). */
  directoriesFound: bigint;
  directoriesListed: bigint;
  /** Directories that could not be read: their files are not transferred. */
  directoriesFailed: bigint;
}

/**
 * Lists the regular files under `root`, recursively. A missing root is NOT_FOUND and a root that is not a
 * directory FAILED_PRECONDITION (the operation fails); a subdirectory that cannot be read is counted and
 * skipped, as Storage Transfer's POSIX counters describe.
 */
export async function listSource(root: string, signal: AbortSignal): Promise<SourceListing> {
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new RpcError(Code.NOT_FOUND, `The source directory ${root} does not exist.`);
    throw new RpcError(codeOfFsError(err), `The source directory ${root} cannot be read: ${(err as Error).message}`);
  }
  if (!rootStat.isDirectory()) throw new RpcError(Code.FAILED_PRECONDITION, `The source ${root} is not a directory.`);
  const listing: SourceListing = { files: [], directoriesFound: 0n, directoriesListed: 0n, directoriesFailed: 0n };
  const pending = [""];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    signal.throwIfAborted();
    listing.directoriesFound++;
    let entries;
    try {
      entries = await readdir(join(root, dir), { withFileTypes: true });
    } catch {
      listing.directoriesFailed++;
      continue;
    }
    listing.directoriesListed++;
    for (const entry of entries) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) {
        const s = await lstat(join(root, path), { bigint: true }).catch(() => undefined);
        if (s?.isFile()) listing.files.push({ path, size: s.size, mtimeNs: s.mtimeNs });
      }
    }
  }
  listing.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return listing;
}

/** The sink's copy of a file, if there is a regular file there. */
export async function sinkFile(sinkRoot: string, path: string): Promise<{ size: bigint; mtimeNs: bigint } | undefined> {
  const s = await lstat(join(sinkRoot, path), { bigint: true }).catch(() => undefined);
  return s?.isFile() ? { size: s.size, mtimeNs: s.mtimeNs } : undefined;
}

/** Modification times this close are the same: utimes takes seconds as a double, which rounds below a microsecond. */
const MTIME_TOLERANCE_NS = 1_000_000n;

/**
 * Whether the sink's copy is the same file, by size and modification time to the millisecond (copies get
 * the source's mtime): a cheap check, as rsync's, that never reads the contents. Size alone would
 * take a changed file of the same length for unchanged.
 */
export function upToDate(source: SourceFile, sink: { size: bigint; mtimeNs: bigint } | undefined): boolean {
  if (sink === undefined || sink.size !== source.size) return false;
  const delta = sink.mtimeNs - source.mtimeNs;
  return delta < MTIME_TOLERANCE_NS && delta > -MTIME_TOLERANCE_NS;
}

export interface CopyOptions {
  signal: AbortSignal;
  /** Awaited before each chunk is written: where a copy can pause; throwing stops it. */
  beforeChunk: () => Promise<void>;
}

/**
 * Copies `source` to `dest` (creating its directories), streaming: into a temporary file beside `dest`,
 * which gets the source's modification time and is then renamed into place, so `dest` is either absent,
 * the old file or the whole new one. Aborting `signal` stops it between chunks; the temporary file is
 * removed on any failure. Returns the bytes copied.
 */
export async function copyFile(source: string, dest: string, mtimeNs: bigint, options: CopyOptions): Promise<bigint> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString("hex")}${PARTIAL_SUFFIX}`);
  let bytes = 0n;
  try {
    await pipeline(
      createReadStream(source),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          await options.beforeChunk();
          bytes += BigInt(chunk.length);
          yield chunk;
        }
      },
      createWriteStream(tmp, { flags: "wx" }),
      { signal: options.signal },
    );
    await utimes(tmp, Date.now() / 1000, Number(mtimeNs) / 1e9);
    await rename(tmp, dest);
    return bytes;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The google.rpc.Code of a file system error. */
export function codeOfFsError(err: unknown): Code {
  switch ((err as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return Code.NOT_FOUND;
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return Code.PERMISSION_DENIED;
    case "ENOSPC":
    case "EDQUOT":
    case "EMFILE":
      return Code.RESOURCE_EXHAUSTED;
    case "EISDIR":
    case "ENOTDIR":
    case "EEXIST":
      return Code.FAILED_PRECONDITION;
    default:
      return Code.UNKNOWN;
  }
}
