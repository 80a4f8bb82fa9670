// The admin Worker's entry module: worker-build's generated class (fetch and scheduled), with the
// operator console in front of its fetch (console_host.mjs: the page, its assets and the /auth/v1
// pass-through; everything else, /admin/v1/* included, is the Rust Worker's). The admin service is
// not on a hot path, so the router's plain-module shortcut is not needed here. scripts/build-admin.sh
// copies this file and console_host.mjs next to worker-build's output (admin/build/).
import RustWorker from "./index.js";
import { consoleResponse } from "./console_host.mjs";

export default class AdminWorker extends RustWorker {
  async fetch(request) {
    return (await consoleResponse(request, this.env)) ?? super.fetch(request);
  }
}
