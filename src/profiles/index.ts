export {
  profileOptions,
  loadProfile,
  AIP160_DIALECT_NAME,
  type DeploymentProfile,
  type ProfileOptions,
  type FilterDialectName,
  type FilterDialects,
} from "./profile.js";
export { longrunProfile } from "./builtin.js";
export { loadProfileModule, checkProfileModule, type ProfileModule } from "./module.js";
