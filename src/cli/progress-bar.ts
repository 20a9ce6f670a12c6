import cliProgress from "cli-progress";

export interface ProgressState {
  /** Percent, when the operation's metadata reports it. */
  progress: number | undefined;
  /** RUNNING, DONE, … */
  state: string;
}

/**
 * The live progress of one operation on stderr: a cli-progress bar on a terminal; elsewhere (pipes, CI,
 * tests) a plain line each time the percentage or state changes: `operations/abc 40%`.
 */
export class ProgressView {
  private bar: cliProgress.SingleBar | undefined;
  private last: ProgressState | undefined;
  private lastLine = "";

  constructor(
    private readonly name: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  get live(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(state: ProgressState): void {
    this.last = state;
    if (!this.live) {
      const line = `${this.name} ${state.progress === undefined ? state.state : `${Math.floor(state.progress)}%`}`;
      if (line !== this.lastLine) this.stream.write(line + "\n");
      this.lastLine = line;
      return;
    }
    const payload = { state: state.progress === undefined && state.state === "RUNNING" ? "RUNNING (no progress reported)" : state.state };
    if (this.bar === undefined) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: `${this.name} [{bar}] {percentage}% | {state} | {duration_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          barsize: 30,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(100, Math.floor(state.progress ?? 0), payload);
    } else {
      this.bar.update(Math.floor(state.progress ?? 0), payload);
    }
  }

  /** Stops drawing (for a prompt); `update` draws again. */
  pause(): void {
    this.stop();
  }

  /** Draws the last state once more and stops, leaving the bar on screen. */
  stop(): void {
    if (this.bar !== undefined) {
      this.bar.stop();
      this.bar = undefined;
    }
  }

  /** The last state drawn. */
  get state(): ProgressState | undefined {
    return this.last;
  }
}
