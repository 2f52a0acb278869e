import { readFile } from "node:fs/promises";
import { ErrorCode, type NamespaceConfig, parseNamespacesFile, WalError } from "../core/index.ts";

/** Loads and validates a namespaces file. Every failure names the file and says what to fix. */
export async function loadNamespacesFile(path: string): Promise<NamespaceConfig[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidConfig,
      `cannot read namespaces file '${path}': ${(cause as Error).message}; pass --namespaces or set WAL_NAMESPACES_FILE`,
      {
        field: "namespaces",
        cause,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidConfig,
      `namespaces file '${path}' is not valid JSON: ${(cause as Error).message}`,
      {
        field: "namespaces",
        cause,
      },
    );
  }
  return parseNamespacesFile(json, `namespaces file '${path}'`);
}
