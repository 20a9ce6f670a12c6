/**
 * Groups concurrent calls into one call of `flush(items)`: items added while a flush is running wait and
 * go out together in the next one. Under load, batches grow by themselves (group commit) with no added
 * latency when idle: an item added to an idle batcher is flushed on the next turn of the event loop.
 */
export class Batcher<Item, Result> {
  private pending: { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly flush: (items: Item[]) => Promise<Result[]>,
    private readonly maxBatch = 1000,
    /**
     * An item added to an idle batcher goes out once the current microtasks are done rather than on the
     * next turn: for reads, where a lone caller (GetOperation at 1 in flight) would wait a turn for
     * nothing; the items that come while it runs still go out together after it.
     */
    private readonly soonWhenIdle = false,
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      void this.run();
    };
    if (this.soonWhenIdle) queueMicrotask(run);
    else setImmediate(run);
  }

  private async run(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0, this.maxBatch);
    try {
      const results = await this.flush(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as Result));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }
}
