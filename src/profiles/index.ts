export { profileOptions, loadProfile, type DeploymentProfile, type ProfileOptions, type FilterDialectName } from "./profile.js";
export { BUILTIN_PROFILES, longrunProfile, routeOptimizationProfile, cloudSearchProfile, storageTransferProfile } from "./builtin.js";
