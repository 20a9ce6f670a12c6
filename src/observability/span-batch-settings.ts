/** The batching settings, as the OTEL_BSP_* variables name them (their defaults are the specification's). */
export interface SpanBatchSettings {
  /** Longest wait before a batch leaves (OTEL_BSP_SCHEDULE_DELAY). @default 5000 ms */
  scheduledDelayMillis: number;
  /** Longest wait for an export's answer before the next batch may go (OTEL_BSP_EXPORT_TIMEOUT). @default 30000 ms */
  exportTimeoutMillis: number;
  /** Spans kept waiting at most; more are dropped (OTEL_BSP_MAX_QUEUE_SIZE). @default 2048 */
  maxQueueSize: number;
  /** Spans a batch at most (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, no more than the queue). @default 512 */
  maxExportBatchSize: number;
}

/** The settings from the OTEL_BSP_* variables (an unset or unreadable one: its default). */
export function spanBatchSettings(env: NodeJS.ProcessEnv): SpanBatchSettings {
  const read = (name: string, fallback: number): number => {
    const value = Number(env[name]?.trim() || Number.NaN);
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  const maxQueueSize = Math.max(1, read("OTEL_BSP_MAX_QUEUE_SIZE", 2048));
  return {
    scheduledDelayMillis: read("OTEL_BSP_SCHEDULE_DELAY", 5000),
    exportTimeoutMillis: read("OTEL_BSP_EXPORT_TIMEOUT", 30_000),
    maxQueueSize,
    maxExportBatchSize: Math.max(1, Math.min(read("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512), maxQueueSize)),
  };
}
