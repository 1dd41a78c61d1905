// Finds a TCP port nobody listens on, by letting the kernel pick one for a throwaway
// listener. The service and its embedded PostgreSQL each get one, so a bench never
// collides with a developer's `bun run start` on 3000 / 54329.
import { createServer } from "node:net";

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}
