// InvokeModel and InvokeModelWithResponseStream with the models' own body formats (Anthropic
// Messages and Amazon Nova), through the real gateway, over both SDK transports.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';

import {
  MODELS,
  TRANSPORTS,
  UUID,
  drain,
  eventName,
  makeClient,
  sluiceTest,
  startSluice,
} from './support/sluice.mjs';

const ANTHROPIC_BODY = {
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 200,
  messages: [{ role: 'user', content: 'Say something about rivers.' }],
};

const NOVA_BODY = {
  messages: [{ role: 'user', content: [{ text: 'hi' }] }],
  inferenceConfig: { max_new_tokens: 100 },
};

function invokeInput(modelId, body) {
  return {
    modelId,
    contentType: 'application/json',
    accept: 'application/json',
    body: JSON.stringify(body),
  };
}

function decodeJson(bytes) {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch (error) {
    assert.fail(`not JSON: ${text.slice(0, 300)} (${error.message})`);
  }
}

/// Every chunk of an InvokeModelWithResponseStream body, decoded from base64 bytes to JSON.
async function decodedChunks(response) {
  const { events, error } = await drain(response.body);
  assert.equal(error, null, `stream failed: ${error?.name}: ${error?.message}`);
  assert.ok(events.length > 0, 'no events');
  return events.map((event) => {
    assert.equal(eventName(event), 'chunk', `unexpected event ${eventName(event)}`);
    assert.ok(event.chunk.bytes instanceof Uint8Array, 'chunk.bytes is not bytes');
    return decodeJson(event.chunk.bytes);
  });
}

function checkInvocationMetrics(metrics) {
  assert.ok(metrics, 'no amazon-bedrock-invocationMetrics');
  assert.ok(metrics.inputTokenCount > 0, `inputTokenCount=${metrics.inputTokenCount}`);
  assert.ok(metrics.outputTokenCount > 0, `outputTokenCount=${metrics.outputTokenCount}`);
  assert.equal(typeof metrics.invocationLatency, 'number');
  assert.equal(typeof metrics.firstByteLatency, 'number');
}

let server;

before(async () => {
  server = await startSluice(undefined, 'invoke-model');
});

after(async () => {
  await server?.stop();
});

for (const transport of TRANSPORTS) {
  describe(`InvokeModel over ${transport.name}`, () => {
    let client;

    before(() => {
      client = makeClient(server.endpoint, transport);
    });

    after(() => {
      client?.destroy();
    });

    sluiceTest('answers an Anthropic Messages body in the Anthropic format', async () => {
      const response = await client.send(
        new InvokeModelCommand(invokeInput(MODELS.claude, ANTHROPIC_BODY)),
      );

      assert.equal(response.$metadata.httpStatusCode, 200);
      assert.match(response.$metadata.requestId ?? '', UUID);
      assert.equal(response.contentType, 'application/json');
      const body = decodeJson(response.body);
      assert.equal(body.type, 'message');
      assert.equal(body.role, 'assistant');
      assert.equal(body.content[0].type, 'text');
      assert.match(body.content[0].text, /^\[simulated answer from [^\]]*anthropic\.claude-sonnet-4-5-20250929-v1:0\]/);
      assert.ok(['end_turn', 'max_tokens'].includes(body.stop_reason), body.stop_reason);
      assert.ok(body.usage.input_tokens > 0, `input_tokens=${body.usage.input_tokens}`);
      assert.ok(body.usage.output_tokens > 0, `output_tokens=${body.usage.output_tokens}`);
    });

    sluiceTest('answers a Nova body in the Nova format', async () => {
      const response = await client.send(
        new InvokeModelCommand(invokeInput(MODELS.novaLite, NOVA_BODY)),
      );

      assert.equal(response.$metadata.httpStatusCode, 200);
      assert.equal(response.contentType, 'application/json');
      const body = decodeJson(response.body);
      assert.equal(body.output.message.role, 'assistant');
      assert.match(body.output.message.content[0].text, /^\[simulated answer from amazon\.nova-lite-v1:0\]/);
      assert.ok(['end_turn', 'max_tokens'].includes(body.stopReason), body.stopReason);
      assert.ok(body.usage.inputTokens > 0, `inputTokens=${body.usage.inputTokens}`);
      assert.ok(body.usage.outputTokens > 0, `outputTokens=${body.usage.outputTokens}`);
      assert.equal(body.usage.totalTokens, body.usage.inputTokens + body.usage.outputTokens);
    });
  });

  describe(`InvokeModelWithResponseStream over ${transport.name}`, () => {
    let client;

    before(() => {
      client = makeClient(server.endpoint, transport);
    });

    after(() => {
      client?.destroy();
    });

    sluiceTest('streams Anthropic events from message_start to message_stop with metrics', async () => {
      const input = invokeInput(MODELS.claude, ANTHROPIC_BODY);
      const whole = decodeJson((await client.send(new InvokeModelCommand(input))).body);

      const response = await client.send(new InvokeModelWithResponseStreamCommand(input));
      const chunks = await decodedChunks(response);

      assert.equal(response.$metadata.httpStatusCode, 200);
      assert.match(response.$metadata.requestId ?? '', UUID);
      assert.equal(response.contentType, 'application/json');
      const types = chunks.map((chunk) => chunk.type);
      const summary = types.join(',');
      assert.equal(types[0], 'message_start', summary);
      assert.equal(chunks[0].message.role, 'assistant');
      assert.equal(types.at(-1), 'message_stop', summary);
      assert.equal(types.at(-2), 'message_delta', summary);
      const firstDelta = types.indexOf('content_block_delta');
      assert.ok(firstDelta > 0, summary);
      assert.ok(types.indexOf('content_block_stop') > firstDelta, summary);
      assert.ok(types.indexOf('message_delta') > types.lastIndexOf('content_block_delta'), summary);
      const text = chunks
        .filter((chunk) => chunk.type === 'content_block_delta')
        .map((chunk) => chunk.delta.text)
        .join('');
      assert.equal(text, whole.content[0].text);
      assert.equal(chunks.at(-2).delta.stop_reason, whole.stop_reason);
      assert.ok(chunks.at(-2).usage.output_tokens > 0);
      checkInvocationMetrics(chunks.at(-1)['amazon-bedrock-invocationMetrics']);
    });

    sluiceTest('streams Nova events whose text deltas make the whole answer', async () => {
      const input = invokeInput(MODELS.novaLite, NOVA_BODY);
      const whole = decodeJson((await client.send(new InvokeModelCommand(input))).body);

      const response = await client.send(new InvokeModelWithResponseStreamCommand(input));
      const chunks = await decodedChunks(response);

      assert.equal(response.contentType, 'application/json');
      const names = chunks.map((chunk) => Object.keys(chunk).filter((key) => key !== 'amazon-bedrock-invocationMetrics').join('+'));
      const summary = names.join(',');
      assert.equal(names[0], 'messageStart', summary);
      assert.ok(names.includes('contentBlockDelta'), summary);
      assert.ok(names.includes('messageStop'), summary);
      const text = chunks
        .filter((chunk) => chunk.contentBlockDelta)
        .map((chunk) => chunk.contentBlockDelta.delta.text)
        .join('');
      assert.equal(text, whole.output.message.content[0].text);
      const stop = chunks.find((chunk) => chunk.messageStop).messageStop;
      assert.equal(stop.stopReason, whole.stopReason);
      assert.equal(names.at(-1), 'metadata', summary);
      assert.equal(chunks.at(-1).metadata.usage.outputTokens, whole.usage.outputTokens);
      checkInvocationMetrics(chunks.at(-1)['amazon-bedrock-invocationMetrics']);
    });
  });
}
