/**
 * A second floor, for one question: what does fastify itself cost per review? The same work as
 * floor.mjs (read the body, JSON.parse it, answer a fixed allowed AdmissionReview with the uid), on
 * fastify configured as the webhook's app is (TLS 1.2+, 7 MiB body limit, keep-alive 120 s, no
 * logging). Run it in place of the bare floor with BENCH_FLOOR=fastify npm run bench.
 *
 * usage: node bench/floor-fastify.mjs --host H --port P --tls-cert F --tls-key F
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({
  options: { host: { type: 'string' }, port: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } },
});

const app = Fastify({
  https: { cert: readFileSync(String(values['tls-cert']), 'utf8'), key: readFileSync(String(values['tls-key']), 'utf8'), minVersion: 'TLSv1.2' },
  bodyLimit: 7 * 1024 * 1024,
  keepAliveTimeout: 120_000,
  requestTimeout: 30_000,
  return503OnClosing: false,
  logger: false,
});
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
  try {
    done(null, JSON.parse(body.toString('utf8')));
  } catch (error) {
    done(error, undefined);
  }
});
for (const path of ['/mutate', '/validate']) {
  app.post(path, (request) => ({
    apiVersion: request.body?.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: request.body?.request?.uid, allowed: true },
  }));
}
app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: Number(values.port), host: values.host });
process.stdout.write(`fastify floor listening on ${values.host}:${values.port}\n`);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
