/**
 * Loaded with `--import` into both servers by the bench only (never in production): measures the
 * event loop's delay inside the server and answers the bench's questions over the IPC channel with
 * the process's own CPU time and memory. Does nothing when there is no IPC channel.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import process from 'node:process';

if (typeof process.send === 'function') {
  // 5 ms sampling: a block of the loop is recorded as the lateness of the timer that waited on it.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  process.on('message', (message) => {
    if (message?.bench !== 'stats') return;
    const cpu = process.cpuUsage();
    process.send?.({
      bench: 'stats',
      id: message.id,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      loopMaxMs: loop.max / 1e6,
      loopP99Ms: loop.percentile(99) / 1e6,
      rssBytes: process.memoryUsage.rss(),
    });
    if (message.reset) loop.reset();
  });
  // The channel must not keep the server alive once it is asked to shut down.
  process.channel?.unref();
}
