export * from "./model";
export * from "./hmacKeyRing";
export * from "./kubernetesProvider";
export * from "./titanWorkload";
export * from "./titanSecrets";
export * from "./program";
export * from "./redactDebugLog";
