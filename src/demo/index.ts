/**
 * longrun's own demo service, longrun.demo.v1.Demo/Sleep (proto/longrun/demo/v1/demo.proto): what
 * `longrun serve --demo` (and `npm start`) serves, and what tests and benchmarks run operations with.
 */
import { sleep } from "./sleep.js";

export const methods = [sleep];
