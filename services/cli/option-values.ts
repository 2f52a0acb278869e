import { ErrorCode, WalError } from "../core/index.ts";

/** A flag's value as a positive number; anything else is WAL_INVALID_ARGUMENT naming the flag. */
export function positiveNumber(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new WalError(
      ErrorCode.invalidArgument,
      `${flag} must be a positive number, got '${value}'`,
      {
        field: flag,
      },
    );
  }
  return parsed;
}
