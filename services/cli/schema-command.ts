import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { z } from "zod";
import { comparisonBase, fileAt, filesAt, historyOf } from "../adapters/git/index.ts";
import { RegistryHttp } from "../adapters/schema-registry/index.ts";
import {
  type CompatibilityLevel,
  type CompatibilityProblem,
  checkCompatibility,
  compatibilityLevels,
  describeError,
  describeIssues,
  ErrorCode,
  type SchemaVersion,
  subjectPattern,
  subjectPatternMessage,
  WalError,
} from "../core/index.ts";
import { failAndExit } from "./run-service.ts";

const avroFolder = "schemas/avro";
const levelsFile = `${avroFolder}/compatibility.json`;

const schemaFile = z.string().regex(/\.avsc$/, "must name an .avsc file");
const levelsSchema = z.strictObject({
  default: z.enum(compatibilityLevels),
  schemas: z.record(schemaFile, z.enum(compatibilityLevels)).default({}),
  /** The registry subject of a schema file; the file's name without `.avsc` when absent. */
  subjects: z
    .record(schemaFile, z.string().regex(subjectPattern, subjectPatternMessage))
    .default({}),
});
type Levels = z.output<typeof levelsSchema>;

function subjectOf(levels: Levels, file: string): string {
  return levels.subjects[file] ?? file.replace(/\.avsc$/, "");
}

async function readLevels(dir: string): Promise<Levels> {
  let text: string;
  try {
    text = await readFile(join(dir, levelsFile), "utf8");
  } catch {
    return { default: "BACKWARD", schemas: {}, subjects: {} };
  }
  const result = levelsSchema.safeParse(JSON.parse(text));
  if (!result.success) {
    const { field, message } = describeIssues(result.error, "(root)");
    throw new WalError(ErrorCode.invalidConfig, `${levelsFile} is invalid: ${message}`, { field });
  }
  return result.data;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WalError(ErrorCode.invalidArgument, `${what} is not JSON: ${describeError(cause)}`, {
      cause,
    });
  }
}

/** The earlier versions a level compares with: the base's, or every one up to the base. */
async function earlierVersions(
  dir: string,
  base: string,
  path: string,
  level: CompatibilityLevel,
): Promise<SchemaVersion[]> {
  const commits = level.endsWith("_TRANSITIVE") ? await historyOf(dir, base, path) : [base];
  const versions: SchemaVersion[] = [];
  for (const commit of commits) {
    const text = await fileAt(dir, commit, path);
    if (text === undefined) continue;
    versions.push({
      label: `${path}@${commit.slice(0, 10)}`,
      schema: parseJson(text, `${path} at ${commit.slice(0, 10)}`),
    });
  }
  return versions;
}

/** One schema file of `schemas/avro/` with its level and subject. */
interface LocalSchema {
  file: string;
  /** Relative to the repository, for reports. */
  path: string;
  level: CompatibilityLevel;
  subject: string;
  /** The parsed schema. */
  schema: unknown;
}

/** Every schema of `schemas/avro/`, read once, with its level and subject from the levels file. */
async function localSchemas(dir: string): Promise<{ levels: Levels; schemas: LocalSchema[] }> {
  const levels = await readLevels(dir);
  const schemas: LocalSchema[] = [];
  for (const file of await schemaFiles(dir)) {
    const path = `${avroFolder}/${file}`;
    schemas.push({
      file,
      path,
      level: levels.schemas[file] ?? levels.default,
      subject: subjectOf(levels, file),
      schema: parseJson(await readFile(join(dir, path), "utf8"), path),
    });
  }
  return { levels, schemas };
}

/** Adds a schema's verdict (and each problem) to a report; answers whether it broke. */
function reportCheck(
  report: string[],
  path: string,
  against: string,
  problems: CompatibilityProblem[],
): boolean {
  report.push(`${problems.length === 0 ? "ok    " : "BROKEN"}  ${path} (${against})`);
  for (const p of problems) report.push(`        ${p.rule}: ${p.reason}`);
  return problems.length > 0;
}

/**
 * Compares every Avro schema of `schemas/avro/` with its earlier versions in
 * git (the merge base with `ref`, or every version up to it for transitive
 * levels) under its level from `schemas/avro/compatibility.json`. Returns the
 * report and whether anything broke.
 */
export async function checkSchemas(
  dir: string,
  ref: string,
): Promise<{ report: string[]; broken: boolean }> {
  const base = await comparisonBase(dir, ref, avroFolder);
  if (base === undefined) {
    // The levels file is checked all the same; the schemas have nothing to be compared with.
    await readLevels(dir);
    return {
      report: [
        `no earlier commit to compare with (not a git checkout, or no history); ${(await schemaFiles(dir)).length} schema(s) not checked`,
      ],
      broken: false,
    };
  }
  const { levels, schemas } = await localSchemas(dir);
  const report: string[] = [];
  let broken = false;
  for (const { path, level, schema } of schemas) {
    const problems = checkCompatibility(
      schema,
      await earlierVersions(dir, base, path, level),
      level,
    );
    broken = reportCheck(report, path, `${level} against ${base.slice(0, 10)}`, problems) || broken;
  }
  const files = schemas.map((s) => s.file);
  for (const removed of (await filesAt(dir, base, avroFolder)).filter(
    (f) => f.endsWith(".avsc") && !files.includes(f),
  )) {
    const level = levels.schemas[removed] ?? levels.default;
    if (level === "NONE") continue;
    broken = true;
    report.push(
      `BROKEN  ${avroFolder}/${removed} was removed since ${base.slice(0, 10)}: data written with it can no longer be read by its schema; restore it, or set its level to NONE in ${levelsFile}`,
    );
  }
  return { report, broken };
}

/** The registry's versions a level compares with: the latest, or every live one for transitive levels. */
async function registryVersions(
  registry: RegistryHttp,
  subject: string,
  level: CompatibilityLevel,
): Promise<SchemaVersion[]> {
  const numbers = await registry.versions(subject);
  const wanted = level.endsWith("_TRANSITIVE") ? numbers : numbers.slice(-1);
  const versions: SchemaVersion[] = [];
  for (const number of wanted) {
    const found = await registry.version(subject, number);
    if (found === undefined) continue;
    versions.push({
      label: `registry subject ${subject} version ${number}`,
      schema: parseJson(found.schema, `${subject} version ${number} in the registry`),
    });
  }
  return versions;
}

/**
 * Compares every schema of `schemas/avro/` with what the registry holds under
 * its subject (the latest version, or all for transitive levels), under its
 * level from `schemas/avro/compatibility.json`.
 */
export async function checkSchemasAgainstRegistry(
  dir: string,
  registry: RegistryHttp,
): Promise<{ report: string[]; broken: boolean }> {
  const report: string[] = [];
  let broken = false;
  for (const { path, level, subject, schema } of (await localSchemas(dir)).schemas) {
    const earlier = await registryVersions(registry, subject, level);
    if (earlier.length === 0) {
      report.push(`new     ${path} (subject ${subject} is not in the registry yet)`);
      continue;
    }
    const problems = checkCompatibility(schema, earlier, level);
    const against = `${level} against subject ${subject} in the registry`;
    broken = reportCheck(report, path, against, problems) || broken;
    const applied = await registry.level(subject);
    if (applied !== undefined && applied !== level) {
      report.push(
        `        note: the registry applies ${applied} to ${subject}, not ${level} as ${levelsFile} says; 'wal schema register' sets it`,
      );
    }
  }
  return { report, broken };
}

/** Publishes every schema under its subject, setting the subject's level first. */
export async function registerSchemas(dir: string, registry: RegistryHttp): Promise<string[]> {
  const report: string[] = [];
  for (const { path, level, subject, schema } of (await localSchemas(dir)).schemas) {
    await registry.setSubjectLevel(subject, level);
    const before = await registry.versions(subject);
    const id = await registry.register(subject, JSON.stringify(schema));
    const after = await registry.versions(subject);
    report.push(
      after.length > before.length
        ? `registered ${path} → subject ${subject} (${level}), schema id ${id}, version ${after.at(-1)}`
        : `unchanged  ${path} → subject ${subject} (${level}), schema id ${id}`,
    );
  }
  return report;
}

async function schemaFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, avroFolder))).filter((f) => f.endsWith(".avsc")).sort();
}

const registryOption = (what: string) =>
  new Option("--registry <url>", what).env("WAL_SCHEMA_REGISTRY_URL");

export function registerSchemaCommand(program: Command): void {
  const schema = program.command("schema").description("Avro schemas of schemas/avro/");
  schema
    .command("check")
    .description(
      "check every schema against its earlier versions in git (merge base with --base) under its compatibility level (schemas/avro/compatibility.json); exits 1 when one breaks",
    )
    .option("--base <ref>", "the branch a change is compared with", "main")
    .option("--dir <path>", "the repository's root", ".")
    .addOption(
      registryOption(
        "also compare with the latest version of each schema's subject in this registry (every version for transitive levels)",
      ),
    )
    .action(async (options: { base: string; dir: string; registry?: string }) => {
      try {
        const git = await checkSchemas(options.dir, options.base);
        const lines = [...git.report];
        let broken = git.broken;
        if (options.registry === undefined) {
          lines.push("registry: not compared (give --registry or WAL_SCHEMA_REGISTRY_URL)");
        } else {
          const registry = new RegistryHttp(options.registry);
          const registered = await checkSchemasAgainstRegistry(options.dir, registry);
          lines.push(`registry ${registry.base}:`, ...registered.report);
          broken ||= registered.broken;
        }
        process.stdout.write(`${lines.join("\n")}\n`);
        if (broken) process.exitCode = 1;
      } catch (error) {
        failAndExit(error);
      }
    });
  schema
    .command("register")
    .description(
      "publish every schema of schemas/avro/ to the registry under its subject (the file name without .avsc, or as schemas/avro/compatibility.json says), setting each subject's compatibility level first",
    )
    .option("--dir <path>", "the repository's root", ".")
    .addOption(registryOption("the schema registry").default("http://127.0.0.1:8090"))
    .addOption(
      new Option(
        "--admin-token <token>",
        "the control plane's admin token, sent as the HTTP Basic password (unless the URL has credentials)",
      ).env("WAL_ADMIN_TOKEN"),
    )
    .action(async (options: { dir: string; registry: string; adminToken?: string }) => {
      try {
        const registry = new RegistryHttp(options.registry, {
          ...(options.adminToken === undefined ? {} : { token: options.adminToken }),
        });
        const report = await registerSchemas(options.dir, registry);
        process.stdout.write(`${report.join("\n")}\n`);
      } catch (error) {
        failAndExit(error);
      }
    });
}
