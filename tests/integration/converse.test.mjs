// Converse through the real gateway, over both SDK transports.

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';

import { MODELS, TRANSPORTS, UUID, makeClient, sluiceTest, startSluice } from './support/sluice.mjs';

function question(modelId, text) {
  return {
    modelId,
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 200 },
  };
}

let server;

before(async () => {
  server = await startSluice(undefined, 'converse');
});

after(async () => {
  await server?.stop();
});

for (const transport of TRANSPORTS) {
  describe(`Converse over ${transport.name}`, () => {
    let client;

    before(() => {
      client = makeClient(server.endpoint, transport);
    });

    after(() => {
      client?.destroy();
    });

    sluiceTest('answers with simulated text, a stop reason, usage, latency and a request id', async () => {
      const response = await client.send(
        new ConverseCommand(question(MODELS.claude, 'What is the capital of France?')),
      );

      assert.equal(response.$metadata.httpStatusCode, 200);
      assert.match(response.$metadata.requestId ?? '', UUID);
      assert.equal(response.output.message.role, 'assistant');
      const text = response.output.message.content[0].text;
      assert.equal(typeof text, 'string');
      assert.match(text, /^\[simulated answer from [^\]]*anthropic\.claude-sonnet-4-5-20250929-v1:0\]/);
      assert.ok(['end_turn', 'max_tokens'].includes(response.stopReason), response.stopReason);
      const { inputTokens, outputTokens, totalTokens } = response.usage;
      assert.ok(inputTokens > 0, `inputTokens=${inputTokens}`);
      assert.ok(outputTokens > 0, `outputTokens=${outputTokens}`);
      assert.equal(totalTokens, inputTokens + outputTokens);
      assert.equal(typeof response.metrics?.latencyMs, 'number');
      assert.ok(response.metrics.latencyMs >= 0);
    });

    sluiceTest('gives the same text for the same request', async () => {
      const request = question(MODELS.novaLite, 'Name three rivers in Europe.');

      const first = await client.send(new ConverseCommand(request));
      const second = await client.send(new ConverseCommand(request));

      assert.match(first.output.message.content[0].text, /^\[simulated answer from amazon\.nova-lite-v1:0\]/);
      assert.equal(second.output.message.content[0].text, first.output.message.content[0].text);
      assert.deepEqual(second.usage, first.usage);
      assert.notEqual(second.$metadata.requestId, first.$metadata.requestId);
    });

    sluiceTest('stops at maxTokens without spending more output tokens', async () => {
      const request = question(MODELS.claude, 'Tell me everything about the history of Europe.');
      request.inferenceConfig = { maxTokens: 5 };

      const response = await client.send(new ConverseCommand(request));

      assert.equal(response.stopReason, 'max_tokens');
      assert.ok(response.usage.outputTokens <= 5, `outputTokens=${response.usage.outputTokens}`);
      assert.ok(response.usage.outputTokens > 0, `outputTokens=${response.usage.outputTokens}`);
    });

    sluiceTest('calls a tool the user message names', async () => {
      const response = await client.send(
        new ConverseCommand({
          ...question(MODELS.claude, 'Use get_weather to look up Paris.'),
          toolConfig: {
            tools: [
              {
                toolSpec: {
                  name: 'get_weather',
                  description: 'Current weather for a city',
                  inputSchema: {
                    json: {
                      type: 'object',
                      properties: { city: { type: 'string' } },
                      required: ['city'],
                    },
                  },
                },
              },
            ],
          },
        }),
      );

      assert.equal(response.stopReason, 'tool_use');
      const toolUse = response.output.message.content.find((block) => block.toolUse)?.toolUse;
      assert.ok(toolUse, JSON.stringify(response.output.message.content));
      assert.equal(toolUse.name, 'get_weather');
      assert.match(toolUse.toolUseId, /^[a-zA-Z0-9_.:-]{1,64}$/);
      assert.equal(typeof toolUse.input, 'object');
      assert.equal(typeof toolUse.input.city, 'string');
    });

    sluiceTest('is served over the transport the client chose', async () => {
      const response = await client.send(new ConverseCommand(question(MODELS.novaLite, 'hi')));

      const line = await server.accessLogLine(response.$metadata.requestId);
      assert.match(line, new RegExp(`protocol=${transport.accessLogProtocol.replace('/', '\\/')}(\\s|$)`));
    });
  });
}
