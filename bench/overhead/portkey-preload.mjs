// Preloaded into the Portkey gateway's Node process (node --import). Two shims, neither on
// Portkey's own logic:
// 1. Loopback only: its start-server listens on every interface and has no host option, so a
//    port-only listen() is pinned to 127.0.0.1.
// 2. Mutable response headers: with the installed @hono/node-server (1.19.x), a Response built
//    from a fetched Response keeps fetch's immutable headers, and Portkey's streaming path then
//    fails with "TypeError: immutable" (Portkey-AI/gateway#1389; fixed upstream in
//    honojs/node-server#382 by copying the headers). We copy them at fetch instead: one native
//    Response wrapper per upstream call, the same work the upstream fix does.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === "number") {
    const callback = args.find((a) => typeof a === "function");
    return listen.call(this, args[0], "127.0.0.1", callback);
  }
  return listen.apply(this, args);
};

const NativeResponse = globalThis.Response;
const nativeFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await nativeFetch(input, init);
  return new NativeResponse(res.body, res);
};
