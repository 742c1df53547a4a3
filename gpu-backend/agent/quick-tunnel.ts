/**
 * A Cloudflare quick tunnel's public URL. `cloudflared tunnel --url http://127.0.0.1:8000
 * --metrics 127.0.0.1:20241` gets a random `https://<name>.trycloudflare.com` that changes every
 * time cloudflared starts; its metrics server tells it at `GET /quicktunnel` as
 * `{"hostname":"<name>.trycloudflare.com"}` (an empty hostname for a named tunnel). The agent
 * reads it so a worker advertises whatever URL its tunnel has now.
 */

/** The https URL a `/quicktunnel` body names, or null when it names none. */
export function urlFromQuickTunnelReply(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const { hostname } = body as { hostname?: unknown };
  // A DNS name only: the value becomes the URL the gateway dials, so nothing else may slip in.
  if (typeof hostname !== "string" || !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(hostname)) return null;
  return `https://${hostname.toLowerCase()}`;
}

/** Reads cloudflared's metrics server; throws when it cannot be read or names no quick tunnel. */
export async function readQuickTunnelUrl(metricsUrl: string, timeoutMs: number): Promise<string> {
  const res = await fetch(`${metricsUrl}/quicktunnel`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`cloudflared ${metricsUrl}/quicktunnel answered ${res.status}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`cloudflared ${metricsUrl}/quicktunnel is not JSON`);
  }
  const url = urlFromQuickTunnelReply(json);
  if (url === null) throw new Error(`cloudflared at ${metricsUrl} has no quick tunnel (yet): ${text.slice(0, 100)}`);
  return url;
}
