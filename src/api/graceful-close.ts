/**
 * Stopping the HTTP server without dropping requests: stop accepting new
 * connections, let every request in flight finish (keep-alive connections
 * close once idle), and after the grace period cut whatever is left.
 */
import type { Server } from 'node:http';

export async function closeGracefully(server: Server, options: { graceMs: number; log?: (line: string) => void }): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Idle keep-alive sockets would otherwise hold close() open until they time out.
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 250);
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<'forced'>((resolve) => (timer = setTimeout(() => resolve('forced'), options.graceMs)));
  try {
    if ((await Promise.race([closed, forced])) === 'forced') {
      options.log?.(`HTTP requests still running after ${options.graceMs} ms: closing their connections`);
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(idleSweep);
    clearTimeout(timer);
  }
}
