import type { AddressInfo } from 'node:net';
import { createConformanceServer } from '../../scripts/conformance-app';

export interface ConformanceServer {
  /** e.g. http://127.0.0.1:PORT, no trailing slash */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the four protocol-suite services on 127.0.0.1, on a free port. */
export async function startConformanceServer(
  options: { heartbeatDelay?: number; disconnectDelay?: number } = {},
): Promise<ConformanceServer> {
  const server = createConformanceServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
