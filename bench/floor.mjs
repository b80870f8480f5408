/**
 * The floor: the least any HTTPS webhook must do for a review, with no framework and no rules. It
 * reads the body, parses it with JSON.parse and answers a fixed allowed AdmissionReview carrying the
 * request's uid, over the same certificate and TLS settings as the webhook (TLS 1.2+, HTTP/1.1
 * keep-alive kept 120 s). The bench reports the webhook's figures as ratios of this server's,
 * measured in the same run on the same core.
 *
 * usage: node bench/floor.mjs --host H --port P --tls-cert F --tls-key F
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import process from 'node:process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { host: { type: 'string' }, port: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } },
});

const server = createServer(
  {
    cert: readFileSync(String(values['tls-cert']), 'utf8'),
    key: readFileSync(String(values['tls-key']), 'utf8'),
    minVersion: 'TLSv1.2',
    keepAliveTimeout: 120_000,
    requestTimeout: 30_000,
  },
  (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      let review;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":400,"reason":"not JSON"}');
        return;
      }
      const answer = JSON.stringify({
        apiVersion: review?.apiVersion ?? 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: review?.request?.uid, allowed: true },
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) }).end(answer);
    });
  },
);

server.listen(Number(values.port), values.host, () => process.stdout.write(`floor listening on ${values.host}:${values.port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
