/**
 * End to end over real TLS, as the API server calls the webhook: HTTP/1.1 keep-alive, the serving
 * certificate verified against the CA and the Service DNS name with no fallback to the subject CN
 * (Go's crypto/x509 never falls back). Nothing here turns verification off.
 */
import { Agent, request } from 'node:https';
import fastJsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview, anImage, largeSignedImage, type AdmissionReview } from '../fixtures/index.js';
import { checkServerIdentity, keepAliveAgent, SERVICE_DNS, startTestServer, type TestServer } from '../support/tls.js';

/** The parts of a reply these tests read. */
type Reply = { response: { allowed: boolean; patch?: string; status: { details: { causes: { field: string }[] } } } };

let server: TestServer;
let ca: string;
let agent: Agent;

function call(path: string, body: unknown, options: { servername?: string } = {}): Promise<{ status: number; json: Reply; socketReused: boolean }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        agent,
        ca,
        servername: options.servername ?? SERVICE_DNS,
        // The agent verifies the name (keepAliveAgent); a check per request would defeat keep-alive.
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), socketReused: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** What the API server does on a write: /mutate, apply its patch, then /validate the result. */
async function admit(review: AdmissionReview) {
  const mutated = await call('/mutate?timeout=10s', review);
  expect(mutated.status).toBe(200);
  let object = review.request.object;
  if (mutated.json.response.patch) {
    const operations = JSON.parse(Buffer.from(mutated.json.response.patch, 'base64').toString('utf8'));
    object = fastJsonPatch.applyPatch(structuredClone(object), operations).newDocument;
  }
  const validated = await call('/validate?timeout=10s', { ...review, request: { ...review.request, object } });
  expect(validated.status).toBe(200);
  return { mutated: mutated.json.response, validated: validated.json.response, object, reused: validated.socketReused };
}

beforeAll(async () => {
  server = await startTestServer();
  ca = server.pems.caCert;
  agent = keepAliveAgent(1);
});

afterAll(async () => {
  agent?.destroy();
  await server?.stop();
});

describe('over TLS, as the API server calls it', () => {
  it('defaults on CREATE through /mutate and allows the result at /validate', async () => {
    const image = largeSignedImage();
    delete image.dockerImageMetadataVersion;
    const { mutated, validated, object } = await admit(admissionReview({ operation: 'CREATE', object: image }));
    expect(mutated.allowed).toBe(true);
    expect((object as { dockerImageMetadataVersion?: string }).dockerImageMetadataVersion).toBe('1.0');
    expect(validated).toMatchObject({ allowed: true });
    expect(validated).not.toHaveProperty('patch');
  });

  it('denies an UPDATE that changes what the Image is, naming every field', async () => {
    // Without a manifest (stored by the registry), so emptying the layers contradicts only immutability.
    const stored = { dockerImageManifest: undefined, dockerImageConfig: undefined };
    const old = anImage(stored);
    const next = anImage({ ...stored, dockerImageReference: 'quay.io/example/other:1', dockerImageLayers: [] });
    const { mutated, validated } = await admit(admissionReview({ operation: 'UPDATE', object: next, oldObject: old }));
    expect(mutated.allowed).toBe(false);
    expect(validated.status.details.causes.map((c) => c.field).sort()).toEqual(['dockerImageLayers', 'dockerImageReference']);
  });

  it('allows an UPDATE that adds a label, over the same keep-alive connection', async () => {
    const old = anImage();
    const next = { ...anImage(), metadata: { ...old.metadata, labels: { team: 'registry' } } };
    const { validated, reused } = await admit(admissionReview({ operation: 'UPDATE', object: next, oldObject: old }));
    expect(validated.allowed).toBe(true);
    expect(reused).toBe(true);
  });

  it('presents a certificate that is not valid for a name outside its SANs', async () => {
    const fresh = new Agent({ keepAlive: false, checkServerIdentity });
    const previous = agent;
    agent = fresh;
    try {
      await expect(call('/validate', admissionReview({ operation: 'CREATE', object: anImage() }), { servername: 'evil.example.com' })).rejects.toThrow(/not valid for evil.example.com/);
    } finally {
      agent = previous;
      fresh.destroy();
    }
  });

  it('negotiates TLS 1.2 with a client that offers nothing newer, and refuses TLS 1.1', async () => {
    const tls = await import('node:tls');
    const handshake = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string | null>((resolve, reject) => {
        // SECLEVEL=0 lets this client offer TLS 1.1 at all, so a refusal can only come from the server.
        const socket = tls.connect(
          { host: '127.0.0.1', port: server.port, ca, servername: SERVICE_DNS, checkServerIdentity, minVersion: 'TLSv1', maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' },
          () => {
            resolve(socket.getProtocol());
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    expect(await handshake('TLSv1.2')).toBe('TLSv1.2');
    await expect(handshake('TLSv1.1')).rejects.toThrow(/alert protocol version/i);
  });
});
