/**
 * Columns of byte strings sent as one binary parameter. node-postgres sends a Buffer parameter as it is
 * (binary format), but a bytea[] as text: every element hex-encoded, quoted and escaped in JavaScript, and
 * parsed back by the server (in the drain benchmark's CPU profile about 9% of a worker's time). So every
 * byte-string column of a batch travels in one Buffer, each value at its 1-based offset with its length
 * (both null for NULL) in two integer[] parameters, and the statement cuts the values out with
 * `substring(blob FROM offset FOR length)`, which is NULL when the offset is.
 */
export class PackedBytes {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  /** Adds one column's values; returns its offsets and lengths, to be passed as integer[] parameters. */
  column(values: readonly (Uint8Array | null | undefined)[]): { offsets: (number | null)[]; lengths: (number | null)[] } {
    const offsets: (number | null)[] = [];
    const lengths: (number | null)[] = [];
    for (const value of values) {
      if (value === null || value === undefined) {
        offsets.push(null);
        lengths.push(null);
        continue;
      }
      offsets.push(this.size + 1);
      lengths.push(value.length);
      this.parts.push(value);
      this.size += value.length;
    }
    return { offsets, lengths };
  }

  /** The parameter holding every column's bytes. */
  blob(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

/** SQL for one value cut out of a blob parameter: NULL where its offset is. */
export function sliceOf(blobParameter: string, offset: string, length: string): string {
  return `substring(${blobParameter}::bytea FROM ${offset} FOR ${length})`;
}
