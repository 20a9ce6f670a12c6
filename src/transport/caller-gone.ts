/**
 * A call's "the caller went away" for CallContext.onCancel, shared by both transports' contexts: listeners
 * in an array made on first use, called once when the call is cancelled (or at once if it already was).
 */
export class CallerGone {
  gone = false;
  private listeners: (() => void)[] | undefined;

  onCancel(listener: () => void): () => void {
    if (this.gone) {
      listener();
      return () => undefined;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const listeners = this.listeners;
      const at = listeners?.indexOf(listener) ?? -1;
      if (at !== -1) listeners!.splice(at, 1);
    };
  }

  /** Marks the caller gone and calls the listeners; false if it already was. */
  fire(): boolean {
    if (this.gone) return false;
    this.gone = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
    return true;
  }
}
