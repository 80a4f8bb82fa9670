// The Worker's entry module: a plain module handler that calls the router's wasm export.
//
// worker-build's own default export is a `WorkerEntrypoint` class behind two Proxies, so workerd
// constructs an instance and wraps its method for every request: ~50 µs of CPU a request in
// workerd (bench/worker/plain.mjs, side by side), for nothing a stateless fetch handler needs.
// Recovery after a wasm trap does not depend on that class: the generated glue checks, on every
// call into the module, whether the last call aborted, and re-instantiates it first.
//
// scripts/build-worker.sh copies this file next to worker-build's output (build/entry.mjs).
import Generated from "./index.js";

// worker-build puts every other wasm-bindgen export on its class's prototype unchanged.
const handleFetch = Generated.prototype.handleFetch;
if (typeof handleFetch !== "function") {
  throw new Error("build/index.js has no handleFetch export: rebuild with scripts/build-worker.sh");
}

export default {
  fetch(request, env, ctx) {
    return handleFetch(request, env, ctx);
  },
};
