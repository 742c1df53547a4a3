/**
 * The floor: a Worker with no logic. It forwards the request (method, headers, body) to
 * UPSTREAM_URL + path and streams the upstream's answer back unchanged. Plain JS: it runs in
 * workerd (under Miniflare directly and under `wrangler dev`), outside the Node type-check.
 */
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(`${env.UPSTREAM_URL}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    return new Response(upstream.body, upstream);
  },
};
