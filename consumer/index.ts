// The consumer side of the contract (docs/consumer-contract.md), for Node
// services: read the delivered files, sign and verify HMAC requests by key
// ID, count auth failures for the rotation alert.
export * from "./files";
export * from "./hmac";
export * from "./metrics";
