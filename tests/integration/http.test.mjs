// Plain HTTP probes and error headers, without the SDK: HTTP/1.1 through fetch, HTTP/2 through
// node:http2 with prior knowledge.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { TRANSPORTS, UUID, rawRequest, sluiceTest, startSluice } from './support/sluice.mjs';

let server;

before(async () => {
  server = await startSluice(undefined, 'http');
});

after(async () => {
  await server?.stop();
});

for (const transport of TRANSPORTS) {
  const protocol = transport.id === 'h2' ? 'HTTP/2 cleartext' : 'HTTP/1.1';

  describe(`plain requests over ${protocol}`, () => {
    sluiceTest('answers /health with 200', async () => {
      const response = await rawRequest(server.endpoint, transport, { path: '/health' });

      assert.equal(response.status, 200, response.body);
    });

    sluiceTest('answers /ready with 200 while serving', async () => {
      const response = await rawRequest(server.endpoint, transport, { path: '/ready' });

      assert.equal(response.status, 200, response.body);
    });

    sluiceTest('answers an unknown path with 404', async () => {
      const response = await rawRequest(server.endpoint, transport, { path: '/no/such/path' });

      assert.equal(response.status, 404, response.body);
    });

    sluiceTest('sends x-amzn-RequestId and x-amzn-ErrorType with an error', async () => {
      const response = await rawRequest(server.endpoint, transport, {
        method: 'POST',
        path: `/model/${encodeURIComponent('no.such-model-v1:0')}/converse`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      });

      assert.equal(response.status, 400, response.body);
      assert.match(response.headers['x-amzn-requestid'] ?? '', UUID);
      assert.match(response.headers['x-amzn-errortype'] ?? '', /^ValidationException(:|$)/);
      assert.match(response.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(typeof JSON.parse(response.body).message, 'string');
    });
  });
}
