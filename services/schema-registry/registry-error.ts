/**
 * Error codes of the Confluent Schema Registry REST API. Clients written for
 * Confluent's server match on these numbers, so they are the contract here.
 */
export const RegistryErrorCode = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectSoftDeleted: 40404,
  subjectNotSoftDeleted: 40405,
  versionSoftDeleted: 40406,
  versionNotSoftDeleted: 40407,
  subjectLevelCompatibilityNotConfigured: 40408,
  unauthorized: 401,
  incompatibleSchema: 409,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
  storeError: 50001,
} as const;

export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** An error answered as `{ error_code, message }` with the HTTP status Confluent's server uses. */
export class RegistryError extends Error {
  readonly status: number;

  constructor(
    readonly errorCode: RegistryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RegistryError";
    // Five-digit codes carry their status in the first three digits (40401 → 404).
    this.status = errorCode >= 10_000 ? Math.floor(errorCode / 100) : errorCode;
  }
}
