/**
 * The profile built into longrun. Profiles of other services are profile modules (module.ts) that a
 * deployment or `longrun serve --profile` loads: the examples carry those of the services the project
 * started from (examples/<service>/profile.ts).
 */
import type { DeploymentProfile } from "./profile.js";

/** longrun's own defaults: `operations/{id}`, every method on both transports, AIP-160 filters. */
export const longrunProfile: DeploymentProfile = { name: "longrun" };
