/**
 * The limits the HTTP server holds every client to: how long a request may take, how many connections
 * may be open, and the memory the request bodies held at once may use. The config (src/config.ts)
 * reads them from flags; the server enforces them here in http/, which never imports the config.
 */

/** How long a client may take and how many may be connected: slow or numerous clients must not hold the server. */
export interface ServerLimits {
  /** Time to receive a whole request (headers and body); also bounds the TLS handshake. */
  requestTimeoutMs: number;
  /** Time to receive the request headers (slowloris). */
  headersTimeoutMs: number;
  /** Open connections beyond this are refused at accept. */
  maxConnections: number;
  /** Open connections from one source address beyond this are refused at accept. */
  maxConnectionsPerSource: number;
  /**
   * The container's memory limit in bytes: the budget for request bodies held at once is derived from
   * it (memory-budget.ts, docs/operations.md).
   */
  memoryLimitBytes: number;
}

/** The defaults of `serve`'s limit flags (src/config.ts), for callers that build a Config by hand. */
export const DEFAULT_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  maxConnections: 1000,
  maxConnectionsPerSource: 600,
  memoryLimitBytes: 512 * 1024 * 1024,
};
