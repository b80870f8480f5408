/**
 * Slow and numerous clients: a slowloris that sends its headers one byte per second, a client that
 * never finishes the TLS handshake, and more connections than the cap. The server must cut them off
 * by itself while it keeps answering everyone else.
 */
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServerIdentity, send, SERVICE_DNS, startTestServer, type TestServer } from '../support/tls.js';
import { validCreate } from './corpus.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxConnections: 8 } });
});

afterAll(async () => {
  await server?.stop();
});

function openTls(): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: server.pems.caCert, servername: SERVICE_DNS, checkServerIdentity }, () => resolve(socket));
    socket.on('error', reject);
  });
}

async function reviewIsAnswered(): Promise<void> {
  const review = validCreate();
  const answer = await send(server.port, server.pems.caCert, '/validate', JSON.stringify(review));
  expect(answer.status).toBe(200);
  expect(answer.json).toMatchObject({ response: { uid: review.request.uid, allowed: true } });
}

describe('slow clients', () => {
  it('cuts off a slowloris that sends its headers one byte per second, while serving others', async () => {
    const socket = await openTls();
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const headers = `POST /validate HTTP/1.1\r\nHost: ${SERVICE_DNS}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n`;
    let sent = 0;
    const dribble = setInterval(() => {
      if (socket.destroyed || sent >= headers.length) return;
      socket.write(headers[sent++]!);
    }, 1000);
    let answered = 0;
    let stop = false;
    const others = (async () => {
      while (!stop) {
        await reviewIsAnswered();
        answered++;
      }
    })();
    await closed;
    clearInterval(dribble);
    stop = true;
    await others;
    // Closed by the server long before the headers were complete.
    expect(sent).toBeLessThan(headers.length);
    expect(answered).toBeGreaterThan(0);
  });

  it('cuts off a client that connects and never starts the TLS handshake', async () => {
    const socket = tcpConnect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await reviewIsAnswered();
  });

  it('refuses connections beyond --max-connections and serves again once they close', async () => {
    const held: TLSSocket[] = [];
    for (let i = 0; i < 8; i++) held.push(await openTls());
    // The ninth is accepted by the kernel and closed by the server at once: no handshake completes.
    await expect(openTls()).rejects.toThrow();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await reviewIsAnswered();
  });
});
