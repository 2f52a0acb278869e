import { createHash, timingSafeEqual } from "node:crypto";
import { ErrorCode, WalError } from "../core/index.ts";

/** Who may call the API: holders of the admin token, or (explicitly) anyone. */
export type ApiAccess = { adminToken: string } | "insecure-no-auth";

export const actorHeader = "x-wal-actor";
export const defaultActor = "admin";
const maxActorLength = 200;

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Whether an Authorization header carries the admin token: `Bearer <token>`,
 * or HTTP Basic with the token as the password (any user name), which is
 * what schema-registry clients send. Both sides are hashed first: digests have one length, so the comparison
 * takes the same time for every wrong token and reveals nothing of the
 * token's length or content.
 */
export function carriesAdminToken(authorization: string | undefined, adminToken: string): boolean {
  const presented = bearerToken(authorization) ?? basicPassword(authorization);
  if (presented === undefined) return false;
  return timingSafeEqual(sha256(presented), sha256(adminToken));
}

function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];
}

function basicPassword(authorization: string | undefined): string | undefined {
  const encoded = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization ?? "")?.[1];
  if (encoded === undefined) return undefined;
  const credentials = Buffer.from(encoded, "base64").toString("utf8");
  const colon = credentials.indexOf(":");
  return colon === -1 ? undefined : credentials.slice(colon + 1);
}

/** The actor the audit trail records, from the `X-WAL-Actor` header. */
export function actorFrom(header: string | string[] | undefined): string {
  if (header === undefined) return defaultActor;
  const actor = (Array.isArray(header) ? header.join(", ") : header).trim();
  // Control characters would let an actor forge lines in logs and audit exports.
  if (actor.length === 0 || actor.length > maxActorLength || /\p{Cc}/u.test(actor)) {
    throw new WalError(
      ErrorCode.invalidArgument,
      `X-WAL-Actor must be 1 to ${maxActorLength} printable characters naming who makes the change (or left out for '${defaultActor}')`,
      { field: "X-WAL-Actor" },
    );
  }
  return actor;
}
