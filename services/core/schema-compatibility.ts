import avro from "avsc";
import { describeError, ErrorCode, WalError } from "./errors.ts";

/** Compatibility levels, as the Confluent Schema Registry names them. */
export const compatibilityLevels = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
] as const;

export type CompatibilityLevel = (typeof compatibilityLevels)[number];

/** An earlier version of a schema, named for messages (a version number, a commit). */
export interface SchemaVersion {
  label: string;
  schema: unknown;
}

/** One way a new schema breaks a level: against which version, which rule, and Avro's reason. */
export interface CompatibilityProblem {
  against: string;
  rule: string;
  reason: string;
}

/** Parses an Avro schema; an invalid one is WAL_INVALID_ARGUMENT with avsc's reason. */
function parseAvroSchema(schema: unknown, what: string): avro.Type {
  try {
    return avro.Type.forSchema(schema as avro.Schema);
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidArgument,
      `${what} is not a valid Avro schema: ${describeError(cause)}`,
      { cause, field: "schema" },
    );
  }
}

function cannotRead(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/**
 * Checks `next` against earlier versions (oldest first) under `level`, by
 * Avro's schema-resolution rules: BACKWARD means readers of `next` can read
 * data written with the latest earlier version (every earlier one when
 * TRANSITIVE), FORWARD means readers of those versions can read data written
 * with `next`, FULL means both. Returns every problem; none means compatible.
 */
export function checkCompatibility(
  next: unknown,
  earlier: readonly SchemaVersion[],
  level: CompatibilityLevel,
): CompatibilityProblem[] {
  if (level === "NONE" || earlier.length === 0) return [];
  const nextType = parseAvroSchema(next, "the new schema");
  const against = level.endsWith("_TRANSITIVE") ? earlier : earlier.slice(-1);
  const backward = level.startsWith("BACKWARD") || level.startsWith("FULL");
  const forward = level.startsWith("FORWARD") || level.startsWith("FULL");
  const problems: CompatibilityProblem[] = [];
  for (const version of against) {
    const old = parseAvroSchema(version.schema, `version ${version.label}`);
    const backwardReason = backward ? cannotRead(nextType, old) : undefined;
    if (backwardReason !== undefined) {
      problems.push({
        against: version.label,
        rule: `readers of the new schema must read data written with ${version.label} (backward)`,
        reason: backwardReason,
      });
    }
    const forwardReason = forward ? cannotRead(old, nextType) : undefined;
    if (forwardReason !== undefined) {
      problems.push({
        against: version.label,
        rule: `readers of ${version.label} must read data written with the new schema (forward)`,
        reason: forwardReason,
      });
    }
  }
  return problems;
}
