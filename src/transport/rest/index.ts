/** The REST/JSON transport: google.api.http transcoding over node:http. */
export {
  createRestHandler,
  startRestServer,
  DEFAULT_MAX_BODY_BYTES,
  type RestListenOptions,
  type RestServer,
  type RestServerOptions,
} from "./server.js";
export { Router, type Route, type RouteLookup } from "./router.js";
export { renderError, type ErrorResponse } from "./errors.js";
