// Bad input and upstream trouble must reach the SDK as the exception Bedrock would raise: the
// right class, name and HTTP status.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  ModelStreamErrorException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';

import {
  MODELS,
  TRANSPORTS,
  UUID,
  baseConfig,
  drain,
  eventName,
  makeClient,
  setRegion,
  sluiceTest,
  startSluice,
  withSluice,
} from './support/sluice.mjs';

function question(modelId, text = 'Hello there') {
  return {
    modelId,
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 100 },
  };
}

/// Awaits `promise`, which must reject with the SDK's `Exception` class and `status`.
async function expectSdkError(promise, Exception, status, message) {
  let error = null;
  try {
    const response = await promise;
    assert.fail(`expected ${Exception.name}, got success: ${JSON.stringify(response).slice(0, 300)}`);
  } catch (caught) {
    if (caught instanceof assert.AssertionError) {
      throw caught;
    }
    error = caught;
  }
  const seen = `${error.name} (HTTP ${error.$metadata?.httpStatusCode}): ${error.message}`;
  assert.equal(error.name, Exception.name, seen);
  assert.ok(error instanceof Exception, `not an instance of the SDK's ${Exception.name}: ${seen}`);
  assert.equal(error.$metadata?.httpStatusCode, status, seen);
  assert.match(error.$metadata?.requestId ?? '', UUID, `request id: ${seen}`);
  assert.equal(error.$fault, status >= 500 ? 'server' : 'client', seen);
  if (message !== undefined) {
    assert.match(error.message, message);
  }
  return error;
}

/// A one-command middleware that replaces the serialized JSON body before it is signed.
function withBody(command, body) {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request;
      request.body = body;
      for (const name of Object.keys(request.headers)) {
        if (name.toLowerCase() === 'content-length') {
          delete request.headers[name];
        }
      }
      request.headers['content-length'] = String(Buffer.byteLength(body));
      return next(args);
    },
    { step: 'build', name: 'replaceBodyForTest', priority: 'low' },
  );
  return command;
}

let server;

before(async () => {
  server = await startSluice(undefined, 'errors');
});

after(async () => {
  await server?.stop();
});

for (const transport of TRANSPORTS) {
  describe(`errors over ${transport.name}`, () => {
    let client;

    before(() => {
      client = makeClient(server.endpoint, transport);
    });

    after(() => {
      client?.destroy();
    });

    sluiceTest('refuses an InvokeModel body that is not JSON', async () => {
      await expectSdkError(
        client.send(
          new InvokeModelCommand({
            modelId: MODELS.claude,
            contentType: 'application/json',
            body: 'not json',
          }),
        ),
        ValidationException,
        400,
      );
    });

    sluiceTest('refuses a Converse body that is not JSON', async () => {
      const command = withBody(new ConverseCommand(question(MODELS.novaLite)), '{"messages": [');

      await expectSdkError(client.send(command), ValidationException, 400);
    });

    sluiceTest('refuses Converse with no messages', async () => {
      await expectSdkError(
        client.send(new ConverseCommand({ modelId: MODELS.novaLite, messages: [] })),
        ValidationException,
        400,
      );
    });

    sluiceTest('refuses an Anthropic body without max_tokens, naming the key', async () => {
      const body = {
        anthropic_version: 'bedrock-2023-05-31',
        messages: [{ role: 'user', content: 'hi' }],
      };

      await expectSdkError(
        client.send(
          new InvokeModelCommand({
            modelId: MODELS.claude,
            contentType: 'application/json',
            body: JSON.stringify(body),
          }),
        ),
        ValidationException,
        400,
        /required key \[max_tokens\]/,
      );
    });

    sluiceTest('refuses a model identifier it does not know', async () => {
      await expectSdkError(
        client.send(new ConverseCommand(question('no.such-model-v1:0'))),
        ValidationException,
        400,
        /^The provided model identifier is invalid\.$/,
      );
    });

    sluiceTest('refuses a profile-only model called by its plain ID', async () => {
      await expectSdkError(
        client.send(new ConverseCommand(question('anthropic.claude-sonnet-4-5-20250929-v1:0'))),
        ValidationException,
        400,
        /with on-demand throughput isn.t supported/,
      );
    });

    // On a server of its own: a connection stuck in a 25 MB upload must not outlive the test.
    sluiceTest('refuses an InvokeModel body one byte over 25,000,000', async () => {
      const body = Buffer.alloc(25_000_001, 0x20);

      await withSluice(baseConfig(), `oversize-${transport.id}`, transport, async (_, own) => {
        await expectSdkError(
          own.send(
            new InvokeModelCommand({ modelId: MODELS.claude, contentType: 'application/json', body }),
          ),
          ValidationException,
          400,
          /25000000/,
        );
      });
    }, { timeout: 10_000 });

    sluiceTest('refuses an InvokeModel body that is not application/json', async () => {
      await expectSdkError(
        client.send(
          new InvokeModelCommand({
            modelId: MODELS.novaLite,
            contentType: 'text/plain',
            body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
          }),
        ),
        ValidationException,
        400,
      );
    });

    sluiceTest('throttles the second request when the region allows one a minute', async () => {
      const config = baseConfig({ regions: { 'us-east-1': { requests_per_minute: 1 } } });

      await withSluice(config, `throttled-${transport.id}`, transport, async (_, own) => {
        await own.send(new ConverseCommand(question(MODELS.novaLite)));

        await expectSdkError(
          own.send(new ConverseCommand(question(MODELS.novaLite, 'And again'))),
          ThrottlingException,
          429,
          /Too many requests/,
        );
      });
    });

    sluiceTest('reports a region outage as ServiceUnavailable and fails a profile over', async () => {
      await withSluice(baseConfig(), `outage-${transport.id}`, transport, async (own, ownClient) => {
        await setRegion(own.endpoint, 'us-east-1', { outage: true });

        await expectSdkError(
          ownClient.send(new ConverseCommand(question(MODELS.novaLite))),
          ServiceUnavailableException,
          503,
        );
        const viaProfile = await ownClient.send(new ConverseCommand(question(MODELS.novaLiteUs)));
        assert.equal(viaProfile.$metadata.httpStatusCode, 200);
        assert.match(viaProfile.output.message.content[0].text, /^\[simulated answer from /);
        const line = await own.accessLogLine(viaProfile.$metadata.requestId);
        assert.match(line, /region=us-(east-2|west-2)(\s|$)/, line);

        await setRegion(own.endpoint, 'us-east-1', { outage: false });
        const recovered = await ownClient.send(new ConverseCommand(question(MODELS.novaLite)));
        assert.equal(recovered.$metadata.httpStatusCode, 200);
      });
    });

    sluiceTest('breaks a started stream with ModelStreamErrorException', async () => {
      await withSluice(baseConfig(), `stream-error-${transport.id}`, transport, async (own, ownClient) => {
        await setRegion(own.endpoint, 'us-east-1', { stream_error_after_events: 2 });

        const response = await ownClient.send(
          new ConverseStreamCommand(question(MODELS.novaLite, 'Tell me a long story.')),
        );
        const { events, error } = await drain(response.stream);

        assert.equal(response.$metadata.httpStatusCode, 200);
        assert.deepEqual(
          events.map(eventName),
          ['messageStart', 'contentBlockDelta'],
          'the two events before the break arrive',
        );
        assert.ok(error, 'the stream ended without an error');
        assert.equal(error.name, 'ModelStreamErrorException', `${error.name}: ${error.message}`);
        assert.ok(error instanceof ModelStreamErrorException, `${error.name}: ${error.message}`);
      });
    });
  });
}
