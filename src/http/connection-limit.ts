/**
 * A cap on open connections per source address. Node's `maxConnections` is one count for everyone, so
 * a single client holding idle TLS connections took every slot and the API server's own calls (and,
 * when they shared the port, the kubelet's probes) were reset. Here each address may hold at most
 * `perSource` connections; the global cap stays as a last bound.
 *
 * Checked on the raw TCP socket, before the TLS handshake: a refused connection costs no handshake.
 */
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/** The live counts, for tests and metrics. */
export interface ConnectionCounts {
  /** Open connections from `address` (IPv4-mapped IPv6 addresses count as their IPv4 address). */
  from(address: string): number;
  /** Addresses holding at least one connection. */
  readonly sources: number;
}

/**
 * Closes every new connection from an address that already holds `perSource`; `onRefused` is told of
 * each (for the metrics). Installed before the server's own connection handling.
 */
export function limitConnectionsPerSource(server: Server, perSource: number, onRefused: () => void = () => {}): ConnectionCounts {
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: Socket) => {
    const address = sourceOf(socket);
    const held = open.get(address) ?? 0;
    if (held >= perSource) {
      onRefused();
      // resetAndDestroy sends RST rather than FIN: the client learns at once, nothing lingers in TIME_WAIT.
      socket.resetAndDestroy();
      return;
    }
    open.set(address, held + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return {
    from: (address) => open.get(normalize(address)) ?? 0,
    get sources() {
      return open.size;
    },
  };
}

function sourceOf(socket: Socket): string {
  return normalize(socket.remoteAddress ?? 'unknown');
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
