import type { z } from "zod";

/** Dotted path of a schema issue; an unknown key is named itself, not by its parent. */
export function issueField(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys" && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return path.join(".");
}

/** The first issue's field, and every issue as `field: reason`. */
export function describeIssues(
  error: z.ZodError,
  rootName: string,
): { field: string; message: string } {
  const first = error.issues[0];
  return {
    field: first === undefined ? rootName : issueField(first) || rootName,
    message: error.issues.map((i) => `${issueField(i) || rootName}: ${i.message}`).join("; "),
  };
}
