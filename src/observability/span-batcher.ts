import { TraceFlags } from "@opentelemetry/api";
import { ExportResultCode, globalErrorHandler, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";

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

/**
 * The SDK's batch span processor's job (sampled spans batched, a batch at a time to the exporter, when full
 * or after the delay; dropped past the queue's size), without touching the API's context: the SDK's runs
 * each export inside `context.with(suppressTracing(context.active()))`, so that the exporter's own HTTP
 * requests are not traced — a read of the active context, which would switch AsyncLocalStorage on
 * (LazyContextManager). Here the exporter is ThreadSpanExporter, whose requests leave from a worker
 * thread nothing instruments.
 */
export class SpanBatcher implements SpanProcessor {
  #buffer: ReadableSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The export in hand (one at a time), settled when answered or timed out. */
  #exporting: Promise<void> | undefined;
  #dropped = 0;
  #shutDown = false;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly settings: SpanBatchSettings,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutDown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#buffer.length >= this.settings.maxQueueSize) {
      if (this.#dropped++ === 0) globalErrorHandler(new Error(`span queue full (${this.settings.maxQueueSize}, OTEL_BSP_MAX_QUEUE_SIZE): spans dropped`));
      return;
    }
    this.#buffer.push(span);
    if (this.#exporting !== undefined) return;
    if (this.#buffer.length >= this.settings.maxExportBatchSize) this.#exportNext();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#exportNext(), this.settings.scheduledDelayMillis);
      this.#timer.unref();
    }
  }

  /** Exports every span ended so far, and waits for the exporter to have delivered them. */
  async forceFlush(): Promise<void> {
    while (this.#exporting !== undefined || this.#buffer.length > 0) {
      if (this.#exporting === undefined) this.#exportNext();
      await this.#exporting;
    }
    await this.exporter.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    await this.forceFlush();
    this.#shutDown = true;
    await this.exporter.shutdown();
  }

  /** Hands the next batch to the exporter; when answered, the next one if a full batch is waiting, else the timer. */
  #exportNext(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#exporting !== undefined || this.#buffer.length === 0) return;
    const batch = this.#buffer.length <= this.settings.maxExportBatchSize ? this.#buffer : this.#buffer.slice(0, this.settings.maxExportBatchSize);
    this.#buffer = batch === this.#buffer ? [] : this.#buffer.slice(batch.length);
    this.#exporting = new Promise<void>((resolve) => {
      const timeout = setTimeout(() => done({ code: ExportResultCode.FAILED, error: new Error(`span export timed out after ${this.settings.exportTimeoutMillis} ms`) }), this.settings.exportTimeoutMillis);
      timeout.unref();
      let answered = false;
      const done = (result: ExportResult): void => {
        if (answered) return;
        answered = true;
        clearTimeout(timeout);
        if (result.code !== ExportResultCode.SUCCESS) globalErrorHandler(result.error ?? new Error("span export failed"));
        resolve();
      };
      this.exporter.export(batch, done);
    }).then(() => {
      this.#exporting = undefined;
      if (this.#buffer.length >= this.settings.maxExportBatchSize) this.#exportNext();
      else if (this.#buffer.length > 0 && this.#timer === undefined && !this.#shutDown) {
        this.#timer = setTimeout(() => this.#exportNext(), this.settings.scheduledDelayMillis);
        this.#timer.unref();
      }
    });
  }
}
