/** The health thread's script (health-thread.ts starts it): the health listener, off the main thread. */
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { createHealthServer } from './health-server.js';
import { type HealthThreadData, sharedReadiness, stallWatch } from './health-thread.js';

const { host, port, state, stallMs } = workerData as HealthThreadData;
const server = createHealthServer(sharedReadiness(state), stallWatch(state, stallMs));
server.once('error', (error) => parentPort!.postMessage({ error: error.message }));
server.listen(port, host, () => parentPort!.postMessage({ listening: (server.address() as AddressInfo).port }));
