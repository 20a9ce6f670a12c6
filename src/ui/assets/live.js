// @ts-check
// The live stream: server-sent events read with fetch (EventSource cannot send the credential header),
// one per tab, reconnecting with backoff; after a reconnect the page re-reads what it shows.
import { authHeaders, config } from "./api.js";

/**
 * @typedef {{changed: string[], deleted: string[], resync: boolean}} Changes
 * @param {string} path the list's REST path; the stream is `<path>:watch`
 * @param {(changes: Changes) => void} onChanges
 * @returns {() => void} stops watching
 */
export function watch(path, onChanges) {
  const status = document.getElementById("live");
  const show = (/** @type {string} */ text, /** @type {string} */ kind) => {
    if (status === null) return;
    status.textContent = text;
    status.className = `live live-${kind}`;
  };
  if (!config.live) return () => {};
  let stopped = false;
  /** @type {AbortController | undefined} */
  let controller;
  const run = async () => {
    let backoff = 1000;
    let opened = 0;
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(`${path}:watch`, { headers: { accept: "text/event-stream", ...authHeaders() }, signal: controller.signal, cache: "no-store", credentials: "omit" });
        if (res.ok && res.body) {
          show("live", "on");
          backoff = 1000;
          // Changes may have been missed while no stream was open.
          if (opened++ > 0) onChanges({ changed: [], deleted: [], resync: true });
          await read(res.body, onChanges);
        } else {
          show(`not live (HTTP ${res.status})`, "off");
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      show("reconnecting…", "off");
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 30_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

/** @param {ReadableStream<Uint8Array>} body @param {(changes: Changes) => void} onChanges */
async function read(body, onChanges) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (event !== "changes" || data === "") continue;
      try {
        onChanges(JSON.parse(data));
      } catch {
        // A malformed event is dropped; the next resync heals what it missed.
      }
    }
  }
}

/**
 * `load`, run at most once per `intervalMs` however often it is asked: asks while one is waiting or running
 * coalesce into it, so a burst of changes costs one read after it. `stop()` drops the one waiting.
 * @param {() => Promise<void>} load @param {number} intervalMs
 */
export function atMostEvery(load, intervalMs) {
  let last = 0;
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;
  return {
    request() {
      if (stopped || pending !== undefined) return;
      pending = setTimeout(async () => {
        try {
          await load();
        } finally {
          last = Date.now();
          pending = undefined;
        }
      }, Math.max(0, last + intervalMs - Date.now()));
    },
    stop() {
      stopped = true;
      clearTimeout(pending);
    },
  };
}
