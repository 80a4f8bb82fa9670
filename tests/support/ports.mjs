// A TCP port on 127.0.0.1 that nothing listens on now: for a server about to take it, or for a
// request that must find the port closed (a 502 test). One place for tests and benchmarks alike.
import net from "node:net";

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
