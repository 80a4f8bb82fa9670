// The admin Worker's entry module: worker-build's generated class (fetch and scheduled) as is; the
// admin service is not on a hot path, so the router's plain-module shortcut is not needed here.
// scripts/build-admin.sh copies this file next to worker-build's output (admin/build/entry.mjs).
export { default } from "./index.js";
