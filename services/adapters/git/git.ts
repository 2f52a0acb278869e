import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Runs git in `dir`; resolves with its output, or undefined when git fails (no repo, unknown ref). */
async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch {
    return undefined;
  }
}

/**
 * The commit a change to `path` is compared with: the merge base of HEAD and
 * `ref`. When that is HEAD itself, HEAD if `path` has uncommitted changes
 * (checking work in progress), else HEAD's parent (checking the last commit
 * of the branch, as CI does). Undefined without history to compare with.
 */
export async function comparisonBase(
  dir: string,
  ref: string,
  path: string,
): Promise<string | undefined> {
  const head = (await git(dir, ["rev-parse", "HEAD"]))?.trim();
  if (head === undefined) return undefined;
  const base = (await git(dir, ["merge-base", "HEAD", ref]))?.trim();
  if (base !== undefined && base !== "" && base !== head) return base;
  const changes = await git(dir, ["status", "--porcelain", "--", path]);
  if (changes !== undefined && changes.trim() !== "") return head;
  return (await git(dir, ["rev-parse", "--verify", "--quiet", "HEAD^"]))?.trim() || undefined;
}

/** A file's content at a commit; undefined when it did not exist there. */
export function fileAt(dir: string, commit: string, path: string): Promise<string | undefined> {
  return git(dir, ["show", `${commit}:${path}`]);
}

/** The commits that changed `path`, oldest first, up to and including `commit`. */
export async function historyOf(dir: string, commit: string, path: string): Promise<string[]> {
  const out = await git(dir, ["log", "--format=%H", "--reverse", commit, "--", path]);
  return (out ?? "").split("\n").filter(Boolean);
}

/** The files directly under `folder` at a commit. */
export async function filesAt(dir: string, commit: string, folder: string): Promise<string[]> {
  const out = await git(dir, ["ls-tree", "--name-only", `${commit}:${folder}`]);
  return (out ?? "").split("\n").filter(Boolean);
}
