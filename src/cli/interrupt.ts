import { createInterface, type Interface } from "node:readline";

/** Whether a person can answer a question: stdin is a terminal. */
export function interactive(): boolean {
  return Boolean(process.stdin.isTTY);
}

/** Calls `handler` on Ctrl-C (SIGINT) instead of exiting; returns the function that stops listening. */
export function onInterrupt(handler: () => void): () => void {
  process.on("SIGINT", handler);
  return () => process.off("SIGINT", handler);
}

/**
 * Asks a yes/no question on the terminal (question on stderr, answer on stdin). "y"/"yes" is yes;
 * anything else, Ctrl-C or end of input is no. `close()` withdraws the question (answering no).
 */
export function confirm(question: string): { answer: Promise<boolean>; close(): void } {
  const rl: Interface = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
  let settle: (yes: boolean) => void = () => {};
  const answer = new Promise<boolean>((resolve) => {
    let settled = false;
    settle = (yes: boolean) => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(yes);
    };
    rl.question(question, (text) => settle(/^\s*y(es)?\s*$/i.test(text)));
    rl.on("SIGINT", () => {
      process.stderr.write("\n");
      settle(false);
    });
    rl.on("close", () => settle(false));
  });
  return {
    answer,
    close: () => {
      process.stderr.write("\n");
      settle(false);
    },
  };
}
