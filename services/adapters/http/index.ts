export { parseRetryAfter, WebhookTarget, type WebhookTargetOptions } from "./webhook-target.ts";
