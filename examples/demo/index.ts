/** The demo service `npm start` serves: `longrun serve --methods examples/demo/index.ts` loads this module. */
import { sleep } from "./sleep.js";

export const methods = [sleep];
