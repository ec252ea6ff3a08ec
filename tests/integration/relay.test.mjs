// A chain of two gateways: the SDK calls a front sluice whose deployments forward to a back
// sluice through the Bedrock-protocol provider. What the SDK sees through the chain must be what
// the back gateway answers directly, streams included, and the back gateway's errors must keep
// their type on the way through.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';

import {
  MODELS,
  TRANSPORTS,
  baseConfig,
  drain,
  eventName,
  makeClient,
  setRegion,
  sluiceTest,
  startSluice,
} from './support/sluice.mjs';

// The front gateway knows the models only through its deployments: its own simulator is off.
function frontConfig(backEndpoint) {
  return {
    region: 'us-east-1',
    log: { level: 'info', access_log: 'stdout' },
    auth: { anonymous: 'loopback' },
    simulator: { enabled: false },
    upstreams: [{ name: 'back', type: 'bedrock', endpoint: backEndpoint, region: 'us-east-1' }],
    deployments: [
      { model: MODELS.claude, upstream: 'back' },
      { model: MODELS.novaLite, upstream: 'back' },
    ],
  };
}

function question(modelId, text) {
  return { modelId, messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: 120 } };
}

function anthropicBody(text) {
  return JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 120,
    messages: [{ role: 'user', content: text }],
  });
}

function streamText(events) {
  return events
    .filter((event) => eventName(event) === 'contentBlockDelta')
    .map((event) => event.contentBlockDelta.delta.text ?? '')
    .join('');
}

let back;
let front;

before(async () => {
  back = await startSluice(baseConfig(), 'back');
  front = await startSluice(frontConfig(back.endpoint), 'front');
});

after(async () => {
  await front?.stop();
  await back?.stop();
});

for (const transport of TRANSPORTS) {
  describe(`relay through a second gateway over ${transport.name}`, () => {
    let viaFront;
    let direct;

    before(() => {
      viaFront = makeClient(front.endpoint, transport);
      direct = makeClient(back.endpoint, transport);
    });

    after(() => {
      viaFront?.destroy();
      direct?.destroy();
    });

    sluiceTest('relays a Converse answer unchanged', async () => {
      const input = question(MODELS.claude, 'Relay this question, please.');

      const relayed = await viaFront.send(new ConverseCommand(input));
      const original = await direct.send(new ConverseCommand(input));

      assert.equal(relayed.output.message.content[0].text, original.output.message.content[0].text);
      assert.deepEqual(relayed.usage, original.usage);
      assert.equal(relayed.stopReason, original.stopReason);
    });

    sluiceTest('relays every ConverseStream event', async () => {
      const input = question(MODELS.novaLite, 'Stream through the chain.');

      const relayed = await drain((await viaFront.send(new ConverseStreamCommand(input))).stream);
      const original = await drain((await direct.send(new ConverseStreamCommand(input))).stream);

      assert.equal(relayed.error, null);
      assert.deepEqual(relayed.events.map(eventName), original.events.map(eventName));
      assert.equal(streamText(relayed.events), streamText(original.events));
      assert.deepEqual(relayed.events.at(-1).metadata.usage, original.events.at(-1).metadata.usage);
    });

    sluiceTest('relays an InvokeModel body in the model\'s own format', async () => {
      const input = { modelId: MODELS.claude, contentType: 'application/json', body: anthropicBody('Invoke through the chain.') };

      const relayed = await viaFront.send(new InvokeModelCommand(input));
      const original = await direct.send(new InvokeModelCommand(input));

      const relayedBody = JSON.parse(Buffer.from(relayed.body).toString('utf8'));
      const originalBody = JSON.parse(Buffer.from(original.body).toString('utf8'));
      assert.equal(relayedBody.type, 'message');
      assert.deepEqual(relayedBody.content, originalBody.content);
      assert.deepEqual(relayedBody.usage, originalBody.usage);
    });

    sluiceTest('relays InvokeModelWithResponseStream chunks', async () => {
      const input = { modelId: MODELS.claude, contentType: 'application/json', body: anthropicBody('Stream an invoke through the chain.') };

      const response = await viaFront.send(new InvokeModelWithResponseStreamCommand(input));
      const { events, error } = await drain(response.body);

      assert.equal(error, null);
      const chunks = events.map((event) => JSON.parse(Buffer.from(event.chunk.bytes).toString('utf8')));
      assert.equal(chunks[0].type, 'message_start');
      assert.equal(chunks.at(-1).type, 'message_stop');
      assert.ok(chunks.at(-1)['amazon-bedrock-invocationMetrics'].outputTokenCount > 0);
    });

    sluiceTest('keeps the type of an error from the second gateway', async () => {
      await setRegion(back.endpoint, 'us-east-1', { outage: true });
      try {
        await assert.rejects(viaFront.send(new ConverseCommand(question(MODELS.novaLite, 'Anyone there?'))), (error) => {
          assert.equal(error.name, 'ServiceUnavailableException');
          assert.equal(error.$metadata.httpStatusCode, 503);
          return true;
        });
      } finally {
        await setRegion(back.endpoint, 'us-east-1', { outage: false });
      }
    });
  });
}
