/**
 * CPU profile of a whole process, for processes the benchmarks start: load it with
 * `NODE_OPTIONS="--import tsx --import ./bench/support/cpu-profile.ts"` and LONGRUN_CPU_PROFILE_DIR set (Node 20
 * refuses `--cpu-prof` in NODE_OPTIONS, and test/support/process.ts takes no node flags). Writes
 * `<dir>/<pid>.cpuprofile` (Chrome DevTools format, as `--cpu-prof` would) when the process exits.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

/** --cpu-prof's default interval, µs. */
const SAMPLING_INTERVAL_US = 1000;

const dir = process.env.LONGRUN_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  session.post("Profiler.start");
  // A session in the same thread answers synchronously, so this completes inside the exit handler.
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (err) return console.error("cpu-profile: could not stop the profiler", err);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
