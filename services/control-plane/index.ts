export { type AnnounceNamespaceChange, announcingStore } from "./announcing-store.ts";
export { type ApiAccess, defaultActor } from "./auth.ts";
export {
  ControlPlaneClient,
  type ControlPlaneClientOptions,
  type DeadLetterQuery,
  type DryRunRecord,
} from "./client.ts";
export {
  type ControlPlaneApiOptions,
  type ErrorBody,
  type RunningControlPlaneApi,
  startControlPlaneApi,
} from "./http-api.ts";
