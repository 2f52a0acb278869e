/**
 * A registry URL split for use: the base to append API paths to (safe to
 * show: without credentials) and the credentials it carries, for HTTP Basic.
 */
export function registryEndpoint(url: string): {
  base: string;
  auth: { username: string; password: string } | undefined;
} {
  const parsed = new URL(url);
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  return {
    base: parsed.toString().replace(/\/+$/, ""),
    auth: username !== "" || password !== "" ? { username, password } : undefined,
  };
}

/** Whether a secret may travel to this registry: over TLS, or without leaving the machine. */
export function safeForSecrets(base: string): boolean {
  const { protocol, hostname } = new URL(base);
  return protocol === "https:" || ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
}

export function basicAuthorization(auth: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
}
