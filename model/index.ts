// The rotation model of docs/DESIGN.md in pure TypeScript (no Pulumi import).
export * from "./types";
export * from "./errors";
export * from "./config";
export * from "./stages";
export * from "./rollout";
export * from "./ledger";
export * from "./plan";
export * from "./delivery";
export * from "./serverConfig";
export * from "./exchangeKeys";
export * from "./monitoring";
export * from "./rolloutStatus";
export * from "./annotations";
export * from "./time";
export * from "./names";
export * from "./schema";
export * from "./fleet";
