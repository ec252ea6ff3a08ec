// ConverseStream through the real gateway, over both SDK transports.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';

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

const WEATHER_TOOL = {
  toolSpec: {
    name: 'get_weather',
    description: 'Current weather for a city',
    inputSchema: {
      json: {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer' } },
        required: ['city'],
      },
    },
  },
};

function question(modelId, text, extra = {}) {
  return {
    modelId,
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 200 },
    ...extra,
  };
}

/// Checks the event order Bedrock promises: messageStart; per block an optional
/// contentBlockStart, deltas and a contentBlockStop with one index; messageStop; metadata.
/// Returns the blocks, each {index, start, deltas}.
function checkEventOrder(events) {
  const names = events.map(eventName);
  const summary = names.join(',');
  assert.equal(names[0], 'messageStart', summary);
  assert.equal(events[0].messageStart.role, 'assistant');
  assert.equal(names.at(-2), 'messageStop', summary);
  assert.equal(names.at(-1), 'metadata', summary);

  const blocks = [];
  let open = null;
  for (const event of events.slice(1, -2)) {
    const name = eventName(event);
    const index = event[name]?.contentBlockIndex;
    assert.equal(typeof index, 'number', `${name} without contentBlockIndex (${summary})`);
    if (name === 'contentBlockStart') {
      assert.equal(open, null, `contentBlockStart inside an open block (${summary})`);
      open = { index, start: event.contentBlockStart.start, deltas: [] };
    } else if (name === 'contentBlockDelta') {
      if (open === null) {
        open = { index, start: null, deltas: [] };  // text blocks start with their first delta
      }
      assert.equal(index, open.index, `delta for block ${index} inside block ${open.index}`);
      open.deltas.push(event.contentBlockDelta.delta);
    } else if (name === 'contentBlockStop') {
      assert.notEqual(open, null, `contentBlockStop with no open block (${summary})`);
      assert.equal(index, open.index);
      blocks.push(open);
      open = null;
    } else {
      assert.fail(`unexpected ${name} between messageStart and messageStop (${summary})`);
    }
  }
  assert.equal(open, null, `block ${open?.index} never stopped (${summary})`);
  blocks.forEach((block, position) => assert.equal(block.index, position, 'block indexes count from 0'));
  return blocks;
}

let server;

before(async () => {
  server = await startSluice(undefined, 'converse-stream');
});

after(async () => {
  await server?.stop();
});

for (const transport of TRANSPORTS) {
  describe(`ConverseStream over ${transport.name}`, () => {
    let client;

    before(() => {
      client = makeClient(server.endpoint, transport);
    });

    after(() => {
      client?.destroy();
    });

    sluiceTest('streams events in order whose text equals the Converse answer', async () => {
      const request = question(MODELS.claude, 'Explain event streams in two sentences.');

      const response = await client.send(new ConverseStreamCommand(request));
      const { events, error } = await drain(response.stream);
      const whole = await client.send(new ConverseCommand(request));

      assert.equal(error, null, `stream failed: ${error?.name}: ${error?.message}`);
      assert.equal(response.$metadata.httpStatusCode, 200);
      assert.match(response.$metadata.requestId ?? '', UUID);
      const blocks = checkEventOrder(events);
      assert.equal(blocks.length, 1);
      assert.equal(blocks[0].start, null, 'text blocks have no contentBlockStart');
      assert.ok(blocks[0].deltas.length >= 1);
      const streamed = blocks[0].deltas.map((delta) => delta.text).join('');
      assert.equal(streamed, whole.output.message.content[0].text);
      const stop = events.at(-2).messageStop;
      assert.equal(stop.stopReason, whole.stopReason);
      const { usage, metrics } = events.at(-1).metadata;
      assert.ok(usage.inputTokens > 0, `inputTokens=${usage.inputTokens}`);
      assert.ok(usage.outputTokens > 0, `outputTokens=${usage.outputTokens}`);
      assert.equal(usage.totalTokens, usage.inputTokens + usage.outputTokens);
      assert.deepEqual(
        { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens },
        { inputTokens: whole.usage.inputTokens, outputTokens: whole.usage.outputTokens },
      );
      assert.equal(typeof metrics?.latencyMs, 'number');
    });

    sluiceTest('streams a tool call as a toolUse start and JSON input deltas', async () => {
      const request = question(MODELS.claude, 'Call get_weather for Paris, please.', {
        toolConfig: { tools: [WEATHER_TOOL] },
      });

      const response = await client.send(new ConverseStreamCommand(request));
      const { events, error } = await drain(response.stream);

      assert.equal(error, null, `stream failed: ${error?.name}: ${error?.message}`);
      const blocks = checkEventOrder(events);
      const toolBlock = blocks.find((block) => block.start?.toolUse);
      assert.ok(toolBlock, `no contentBlockStart with toolUse in ${events.map(eventName).join(',')}`);
      assert.equal(toolBlock.start.toolUse.name, 'get_weather');
      assert.match(toolBlock.start.toolUse.toolUseId, /^[a-zA-Z0-9_.:-]{1,64}$/);
      assert.ok(toolBlock.deltas.length >= 1);
      const inputText = toolBlock.deltas.map((delta) => delta.toolUse?.input ?? '').join('');
      const input = JSON.parse(inputText);
      assert.equal(typeof input, 'object');
      assert.equal(typeof input.city, 'string');
      assert.equal(events.at(-2).messageStop.stopReason, 'tool_use');
    });

    sluiceTest('calls the tool that toolChoice names even when the message does not', async () => {
      const request = question(MODELS.novaLite, 'What should I wear today?', {
        toolConfig: { tools: [WEATHER_TOOL], toolChoice: { tool: { name: 'get_weather' } } },
      });

      const response = await client.send(new ConverseStreamCommand(request));
      const { events, error } = await drain(response.stream);

      assert.equal(error, null, `stream failed: ${error?.name}: ${error?.message}`);
      const blocks = checkEventOrder(events);
      assert.ok(blocks.some((block) => block.start?.toolUse?.name === 'get_weather'));
      assert.equal(events.at(-2).messageStop.stopReason, 'tool_use');
    });
  });
}
