export { profileOptions, loadProfile, AIP160_DIALECT_NAME, type DeploymentProfile, type ProfileOptions, type FilterDialectName, type FilterDialects } from "./profile.js";
export { BUILTIN_PROFILES, longrunProfile, routeOptimizationProfile, cloudSearchProfile, storageTransferProfile } from "./builtin.js";
