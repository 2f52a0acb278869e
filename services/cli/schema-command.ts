import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { comparisonBase, fileAt, filesAt, historyOf } from "../adapters/git/index.ts";
import {
  type CompatibilityLevel,
  checkCompatibility,
  compatibilityLevels,
  describeError,
  describeIssues,
  ErrorCode,
  type SchemaVersion,
  WalError,
} from "../core/index.ts";
import { failAndExit } from "./run-service.ts";

const avroFolder = "schemas/avro";
const levelsFile = `${avroFolder}/compatibility.json`;

const levelsSchema = z.strictObject({
  default: z.enum(compatibilityLevels),
  schemas: z
    .record(z.string().regex(/\.avsc$/, "must name an .avsc file"), z.enum(compatibilityLevels))
    .default({}),
});

async function readLevels(dir: string): Promise<z.output<typeof levelsSchema>> {
  let text: string;
  try {
    text = await readFile(join(dir, levelsFile), "utf8");
  } catch {
    return { default: "BACKWARD", schemas: {} };
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
  const levels = await readLevels(dir);
  const base = await comparisonBase(dir, ref, avroFolder);
  const files = (await readdir(join(dir, avroFolder))).filter((f) => f.endsWith(".avsc")).sort();
  if (base === undefined) {
    return {
      report: [
        `no earlier commit to compare with (not a git checkout, or no history); ${files.length} schema(s) not checked`,
      ],
      broken: false,
    };
  }
  const report: string[] = [];
  let broken = false;
  for (const file of files) {
    const path = `${avroFolder}/${file}`;
    const level = levels.schemas[file] ?? levels.default;
    const current = parseJson(await readFile(join(dir, path), "utf8"), path);
    const problems = checkCompatibility(
      current,
      await earlierVersions(dir, base, path, level),
      level,
    );
    if (problems.length === 0) {
      report.push(`ok      ${path} (${level} against ${base.slice(0, 10)})`);
      continue;
    }
    broken = true;
    report.push(`BROKEN  ${path} (${level} against ${base.slice(0, 10)})`);
    for (const p of problems) report.push(`        ${p.rule}: ${p.reason}`);
  }
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

export function registerSchemaCommand(program: Command): void {
  const schema = program.command("schema").description("Avro schemas of schemas/avro/");
  schema
    .command("check")
    .description(
      "check every schema against its earlier versions in git (merge base with --base) under its compatibility level (schemas/avro/compatibility.json); exits 1 when one breaks",
    )
    .option("--base <ref>", "the branch a change is compared with", "main")
    .option("--dir <path>", "the repository's root", ".")
    .action(async (options: { base: string; dir: string }) => {
      try {
        const { report, broken } = await checkSchemas(options.dir, options.base);
        process.stdout.write(`${report.join("\n")}\n`);
        if (broken) process.exitCode = 1;
      } catch (error) {
        failAndExit(error);
      }
    });
}
