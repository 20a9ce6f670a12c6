/**
 * longrun/testing: what a store written outside longrun needs to prove it keeps the Store contract.
 * `runStoreContract` registers the same suite longrun's own SQLite and PostgreSQL stores pass.
 */
export { runStoreContract, type StoreContractOptions } from "./store-contract/run.js";
export type { TestFunctions } from "./store-contract/context.js";
/** The contract's fixed clock origin, test method and operation shape, for a store's own further tests. */
export { newOp, SLEEP, T } from "./store-contract/fixtures.js";
