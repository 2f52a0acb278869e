import avro from "avsc";
import {
  type CompatibilityLevel,
  type CompatibilityProblem,
  type ConfiguredLevels,
  checkCompatibility,
  compatibilityLevels,
  describeError,
  type Registration,
  type RegistryStore,
  type StoredVersion,
} from "../core/index.ts";
import { RegistryError, RegistryErrorCode } from "./registry-error.ts";

/** Confluent's default when no level is configured. */
export const defaultCompatibility: CompatibilityLevel = "BACKWARD";

/** The level that applies to a subject: its own, else the global one, else the default. */
function effective(levels: ConfiguredLevels): CompatibilityLevel {
  return levels.subject ?? levels.global ?? defaultCompatibility;
}

/** A version as given in a path: a number, `latest` or -1 (the latest). */
export type VersionSpec = number | "latest";

/** Versions and schema ids are positive signed 32-bit integers, as in Confluent's server. */
const maxNumber = 2 ** 31 - 1;

export function parseVersionSpec(text: string): VersionSpec {
  if (text === "latest" || text === "-1") return "latest";
  const version = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(version) || version < 1 || version > maxNumber) {
    throw new RegistryError(
      RegistryErrorCode.invalidVersion,
      `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return version;
}

/** A schema id from a path; one that cannot exist is simply not found. */
export function parseSchemaId(text: string): number {
  const id = /^[0-9]{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(id) || id < 1 || id > maxNumber) {
    throw new RegistryError(RegistryErrorCode.schemaNotFound, `Schema ${text} not found`);
  }
  return id;
}

export function parseCompatibilityLevel(value: unknown): CompatibilityLevel {
  const level = typeof value === "string" ? value.toUpperCase() : "";
  if (!(compatibilityLevels as readonly string[]).includes(level)) {
    throw new RegistryError(
      RegistryErrorCode.invalidCompatibilityLevel,
      `Invalid compatibility level ${JSON.stringify(value)}. Valid values are ${compatibilityLevels.join(", ")}`,
    );
  }
  return level as CompatibilityLevel;
}

/** The request body that carries a schema (register, lookup, compatibility). */
export interface SchemaSubmission {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

/** JSON with object keys sorted: the same schema whatever order its attributes were written in. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/**
 * Validates a submitted Avro schema and answers its canonical text (compact
 * JSON, object keys sorted; the order of fields and symbols is kept, as it
 * matters to Avro), the form stored and compared. Only Avro without
 * references is served.
 */
export function canonicalSchema(submission: SchemaSubmission): string {
  if (submission.schemaType !== undefined && submission.schemaType !== "AVRO") {
    throw new RegistryError(
      RegistryErrorCode.invalidSchema,
      `Invalid schema: schemaType ${JSON.stringify(submission.schemaType)} is not served by this registry; it holds AVRO schemas only`,
    );
  }
  if (Array.isArray(submission.references) && submission.references.length > 0) {
    throw new RegistryError(
      RegistryErrorCode.invalidSchema,
      "Invalid schema: schema references are not served by this registry; inline the referenced types",
    );
  }
  if (typeof submission.schema !== "string") {
    throw new RegistryError(
      RegistryErrorCode.invalidSchema,
      'Invalid schema: the body needs "schema", the Avro schema as a JSON string',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(submission.schema);
    avro.Type.forSchema(parsed as avro.Schema);
  } catch (error) {
    throw new RegistryError(
      RegistryErrorCode.invalidSchema,
      `Invalid schema: ${describeError(error)}`,
    );
  }
  return JSON.stringify(sortedKeys(parsed));
}

function describeProblems(problems: CompatibilityProblem[]): string[] {
  return problems.map((p) => `${p.rule}: ${p.reason}`);
}

function problemsAgainst(
  schema: string,
  versions: StoredVersion[],
  level: CompatibilityLevel,
): CompatibilityProblem[] {
  return checkCompatibility(
    JSON.parse(schema),
    versions.map((v) => ({ label: `version ${v.version}`, schema: JSON.parse(v.schema) })),
    level,
  );
}

/** The registry's rules over a store: what Confluent's server answers, for Avro. */
export class SchemaRegistryService {
  constructor(private readonly store: RegistryStore) {}

  subjects(includeDeleted: boolean): Promise<string[]> {
    return this.store.subjects(includeDeleted);
  }

  async versions(subject: string, includeDeleted: boolean): Promise<number[]> {
    return (await this.existingVersions(subject, includeDeleted)).map((v) => v.version);
  }

  async version(
    subject: string,
    spec: VersionSpec,
    includeDeleted: boolean,
  ): Promise<StoredVersion> {
    const versions = await this.existingVersions(subject, includeDeleted);
    const found = spec === "latest" ? versions.at(-1) : versions.find((v) => v.version === spec);
    if (found === undefined) {
      throw new RegistryError(
        RegistryErrorCode.versionNotFound,
        `Version ${spec} not found. List the subject's versions with GET /subjects/${subject}/versions`,
      );
    }
    return found;
  }

  async schemaById(id: number): Promise<string> {
    const schema = await this.store.schemaById(id);
    if (schema === undefined) {
      throw new RegistryError(
        RegistryErrorCode.schemaNotFound,
        `Schema ${id} not found. Ids come from POST /subjects/{subject}/versions`,
      );
    }
    return schema;
  }

  async subjectVersionsOfSchema(id: number): Promise<Array<{ subject: string; version: number }>> {
    await this.schemaById(id);
    return this.store.versionsOfSchema(id);
  }

  /** Registers a schema under a subject, or answers the live version that already holds it. */
  register(subject: string, submission: SchemaSubmission): Promise<Registration> {
    const schema = canonicalSchema(submission);
    return this.store.register(subject, schema, (live, levels) => {
      const same = live.find((v) => v.schema === schema);
      if (same !== undefined) return same;
      const level = effective(levels);
      const problems = problemsAgainst(schema, live, level);
      if (problems.length > 0) {
        throw new RegistryError(
          RegistryErrorCode.incompatibleSchema,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}" (level ${level}), details: ${describeProblems(problems).join("; ")}. Check a candidate first with POST /compatibility/subjects/${subject}/versions?verbose=true`,
        );
      }
      return undefined;
    });
  }

  /** The live version of a subject that holds exactly this schema. */
  async lookup(
    subject: string,
    submission: SchemaSubmission,
    includeDeleted: boolean,
  ): Promise<StoredVersion> {
    const schema = canonicalSchema(submission);
    const versions = await this.existingVersions(subject, includeDeleted);
    const found = versions.find((v) => v.schema === schema);
    if (found === undefined) {
      throw new RegistryError(
        RegistryErrorCode.schemaNotFound,
        `Schema not found under subject '${subject}'. Register it with POST /subjects/${subject}/versions`,
      );
    }
    return found;
  }

  /**
   * Whether a schema could be registered: against one version (`spec`), or
   * against the versions the subject's level names when `spec` is undefined.
   */
  async compatibility(
    subject: string,
    spec: VersionSpec | undefined,
    submission: SchemaSubmission,
  ): Promise<{ isCompatible: boolean; messages: string[] }> {
    const schema = canonicalSchema(submission);
    const level = await this.effectiveLevel(subject);
    let problems: CompatibilityProblem[];
    if (spec === undefined) {
      const live = await this.store.versions(subject, false);
      problems = problemsAgainst(schema, live, level);
    } else {
      const against = await this.version(subject, spec, false);
      // One named version: the level's direction applies to it alone.
      const direct = level.replace("_TRANSITIVE", "") as CompatibilityLevel;
      problems = problemsAgainst(schema, [against], direct);
    }
    return { isCompatible: problems.length === 0, messages: describeProblems(problems) };
  }

  async globalLevel(): Promise<CompatibilityLevel> {
    return effective(await this.store.levels(null));
  }

  setGlobalLevel(value: unknown): Promise<CompatibilityLevel> {
    const level = parseCompatibilityLevel(value);
    return this.store.setCompatibility(null, level).then(() => level);
  }

  /** The subject's own level; with `defaultToGlobal` the level that applies to it. */
  async subjectLevel(subject: string, defaultToGlobal: boolean): Promise<CompatibilityLevel> {
    const levels = await this.store.levels(subject);
    if (levels.subject !== undefined || defaultToGlobal) return effective(levels);
    throw new RegistryError(
      RegistryErrorCode.subjectLevelCompatibilityNotConfigured,
      `Subject '${subject}' does not have subject-level compatibility configured; ask with ?defaultToGlobal=true for the level that applies, or set one with PUT /config/${subject}`,
    );
  }

  setSubjectLevel(subject: string, value: unknown): Promise<CompatibilityLevel> {
    const level = parseCompatibilityLevel(value);
    return this.store.setCompatibility(subject, level).then(() => level);
  }

  async deleteSubjectLevel(subject: string): Promise<CompatibilityLevel> {
    const removed = await this.store.deleteCompatibility(subject);
    if (removed === undefined) await this.existingVersions(subject, true);
    return removed ?? (await this.globalLevel());
  }

  /** Soft delete by default; `permanent` removes versions already soft-deleted. */
  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    const versions = await this.existingVersions(subject, true);
    const live = versions.filter((v) => !v.deleted);
    if (permanent) {
      if (live.length > 0) {
        throw new RegistryError(
          RegistryErrorCode.subjectNotSoftDeleted,
          `Subject '${subject}' was not deleted first before being permanently deleted; delete it without permanent=true first`,
        );
      }
      return this.store.hardDelete(subject, undefined);
    }
    if (live.length === 0) {
      throw new RegistryError(
        RegistryErrorCode.subjectSoftDeleted,
        `Subject '${subject}' was soft deleted. Set permanent=true to delete it permanently`,
      );
    }
    return this.store.softDelete(subject, undefined);
  }

  async deleteVersion(subject: string, spec: VersionSpec, permanent: boolean): Promise<number> {
    // A soft delete of "latest" means the latest live version; otherwise deleted ones count too.
    const found = await this.version(subject, spec, spec !== "latest" || permanent);
    if (!permanent && found.deleted) {
      throw new RegistryError(
        RegistryErrorCode.versionSoftDeleted,
        `Subject '${subject}' Version ${found.version} was soft deleted. Set permanent=true to delete it permanently`,
      );
    }
    if (permanent) {
      if (!found.deleted) {
        throw new RegistryError(
          RegistryErrorCode.versionNotSoftDeleted,
          `Subject '${subject}' Version ${found.version} was not deleted first before being permanently deleted; delete it without permanent=true first`,
        );
      }
      await this.store.hardDelete(subject, found.version);
      return found.version;
    }
    await this.store.softDelete(subject, found.version);
    return found.version;
  }

  private async effectiveLevel(subject: string): Promise<CompatibilityLevel> {
    return effective(await this.store.levels(subject));
  }

  private async existingVersions(
    subject: string,
    includeDeleted: boolean,
  ): Promise<StoredVersion[]> {
    const versions = await this.store.versions(subject, includeDeleted);
    if (versions.length === 0) {
      throw new RegistryError(
        RegistryErrorCode.subjectNotFound,
        `Subject '${subject}' not found. List the subjects with GET /subjects`,
      );
    }
    return versions;
  }
}
