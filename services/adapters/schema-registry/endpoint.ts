/**
 * A registry URL split for use: the base to append API paths to, the
 * credentials it carries as an HTTP Basic header, and a form safe to show.
 */
export function registryEndpoint(url: string): {
  base: string;
  headers: Record<string, string>;
  auth: { username: string; password: string } | undefined;
  shown: string;
} {
  const parsed = new URL(url);
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const base = parsed.toString().replace(/\/+$/, "");
  const hasCredentials = username !== "" || password !== "";
  return {
    base,
    headers: hasCredentials
      ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` }
      : {},
    auth: hasCredentials ? { username, password } : undefined,
    shown: base,
  };
}
