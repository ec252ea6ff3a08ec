// SIGTERM drains: a stream in flight runs to its end, readiness drops, and the process exits 0.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';

import {
  MODELS,
  TRANSPORTS,
  baseConfig,
  eventName,
  sleep,
  sluiceTest,
  withSluice,
} from './support/sluice.mjs';

// Real-time delays at 20 tokens a second: 30 output tokens take about 1.5 s after the first.
const SLOW = baseConfig({ timeScale: 1, simulator: { tokens_per_second: 20 } });
const MAX_TOKENS = 30;
const PROMPT = 'Write a slow, long answer.';

/// The two streaming operations, each with how to start it and how to read its events.
const STREAMS = [
  {
    name: 'ConverseStream',
    command: () =>
      new ConverseStreamCommand({
        modelId: MODELS.novaLite,
        messages: [{ role: 'user', content: [{ text: PROMPT }] }],
        inferenceConfig: { maxTokens: MAX_TOKENS },
      }),
    events: (response) => response.stream,
    // Converse event names as the SDK yields them.
    names: (events) => events.map(eventName),
  },
  {
    name: 'InvokeModelWithResponseStream',
    command: () =>
      new InvokeModelWithResponseStreamCommand({
        modelId: MODELS.novaLite,
        contentType: 'application/json',
        body: JSON.stringify({
          messages: [{ role: 'user', content: [{ text: PROMPT }] }],
          inferenceConfig: { max_new_tokens: MAX_TOKENS },
        }),
      }),
    events: (response) => response.body,
    // Nova's own event names, from inside each chunk.
    names: (events) =>
      events.map((event) => {
        const inner = JSON.parse(new TextDecoder().decode(event.chunk.bytes));
        return Object.keys(inner).filter((key) => key !== 'amazon-bedrock-invocationMetrics')[0];
      }),
  },
];

/// Polls /ready until it stops answering 200; resolves with what it saw: '503', 'refused',
/// 'reset' (a connection the kernel accepted just before the listener closed), or the problem.
async function readinessAfterSignal(endpoint, timeoutMs) {
  await sleep(100);  // let the signal land, so a poll rarely races the closing listener
  const deadline = Date.now() + timeoutMs;
  let last = 'never polled';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${endpoint}/ready`, { signal: AbortSignal.timeout(500) });
      await response.arrayBuffer();
      last = String(response.status);
      if (response.status !== 200) {
        return last;
      }
    } catch (error) {
      const code = error.cause?.code ?? error.code ?? error.name;
      if (code === 'ECONNREFUSED') {
        return 'refused';
      }
      return ['ECONNRESET', 'UND_ERR_SOCKET'].includes(code) ? 'reset' : `error ${code}`;
    }
    await sleep(25);
  }
  return `still ${last} after ${timeoutMs} ms`;
}

for (const transport of TRANSPORTS) {
  describe(`shutdown over ${transport.name}`, () => {
    for (const operation of STREAMS) {
      sluiceTest(`finishes a ${operation.name} in flight after SIGTERM and exits 0`, async () => {
        const label = `shutdown-${operation.name}-${transport.id}`;
        await withSluice(SLOW, label, transport, async (server, client) => {
          const response = await client.send(operation.command());
          const events = [];
          let streamDone = false;
          let readiness = null;
          let readinessWhileStreaming = null;
          let streamError = null;
          try {
            for await (const event of operation.events(response)) {
              events.push(event);
              if (events.length === 1) {
                server.signal('SIGTERM');
                readiness = readinessAfterSignal(server.endpoint, 1_000).then((seen) => {
                  readinessWhileStreaming = !streamDone;
                  return seen;
                });
              }
            }
          } catch (error) {
            streamError = error;
          }
          streamDone = true;
          const exit = await server.waitForExit();
          const readinessSeen = await readiness;

          assert.equal(streamError, null, `stream broke: ${streamError?.name}: ${streamError?.message}`);
          const names = operation.names(events);
          const summary = names.join(',');
          assert.equal(names[0], 'messageStart', summary);
          assert.ok(names.includes('contentBlockDelta'), summary);
          assert.ok(names.includes('contentBlockStop'), summary);
          assert.ok(names.includes('messageStop'), summary);
          assert.equal(names.at(-1), 'metadata', summary);
          assert.ok(
            ['503', 'refused', 'reset'].includes(readinessSeen),
            `/ready after SIGTERM: ${readinessSeen}`,
          );
          assert.equal(readinessWhileStreaming, true, 'readiness should drop while the stream drains');
          assert.deepEqual(exit, { code: 0, signal: null });
        });
      });
    }
  });
}
