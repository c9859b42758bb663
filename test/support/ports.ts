/**
 * TCP ports for servers a test starts outside this process (containers, child processes), which
 * cannot be handed port 0. Checked on every interface, as `docker run -p` publishes.
 */
import { type AddressInfo, createServer } from 'node:net';

/** Whether nothing listens on `port` now. */
export function portIsFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port the system hands out as free now (free until someone else takes it). */
export async function freePort(host = '0.0.0.0'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
