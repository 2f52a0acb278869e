import type { CompatibilityLevel } from "./schema-compatibility.ts";

/** One version of a registry subject as stored. */
export interface StoredVersion {
  subject: string;
  version: number;
  id: number;
  /** The schema's canonical JSON text. */
  schema: string;
  deleted: boolean;
}

/** What a registration answered: the schema's id and the subject version holding it. */
export interface Registration {
  id: number;
  version: number;
}

/** The levels that may apply to a subject: its own and the global one, when set. */
export interface ConfiguredLevels {
  subject: CompatibilityLevel | undefined;
  global: CompatibilityLevel | undefined;
}

/**
 * Where the schema registry keeps subjects, schemas and levels. `register`
 * runs `decide` and the insert under one per-subject lock, so two
 * registrations to a subject cannot both pass a check against the same
 * versions: `decide` answers an existing version to return as is, undefined
 * to add the schema as the next version, or throws to refuse.
 */
export interface RegistryStore {
  subjects(includeDeleted: boolean): Promise<string[]>;
  /** The subject's versions, oldest first. */
  versions(subject: string, includeDeleted: boolean): Promise<StoredVersion[]>;
  schemaById(id: number): Promise<string | undefined>;
  /** Live subject versions that name the schema. */
  versionsOfSchema(id: number): Promise<Array<{ subject: string; version: number }>>;
  register(
    subject: string,
    schema: string,
    decide: (live: StoredVersion[], levels: ConfiguredLevels) => StoredVersion | undefined,
  ): Promise<Registration>;
  /** The levels set for a subject and globally (`null`: the global one only). */
  levels(subject: string | null): Promise<ConfiguredLevels>;
  setCompatibility(subject: string | null, level: CompatibilityLevel): Promise<void>;
  /** Removes a subject's own level; answers the one removed. */
  deleteCompatibility(subject: string): Promise<CompatibilityLevel | undefined>;
  /** Marks versions deleted (all of the subject's when `version` is undefined); answers them. */
  softDelete(subject: string, version: number | undefined): Promise<number[]>;
  /** Removes soft-deleted versions (all of the subject's when `version` is undefined); answers them. */
  hardDelete(subject: string, version: number | undefined): Promise<number[]>;
}

/** What a schema-registry subject may be called (letters, digits, '.', '_', '-'). */
export const subjectPattern = /^[A-Za-z0-9._-]{1,255}$/;
export const subjectPatternMessage =
  "must be a schema-registry subject: 1 to 255 letters, digits, '.', '_' or '-'";

/** The media type of the Confluent Schema Registry REST API. */
export const registryMediaType = "application/vnd.schemaregistry.v1+json";
