// Keys issued by `sluice keys create` against a running gateway that serves nobody anonymously:
// the AWS SDK signs with them and is served as their principal, a forged signature and an
// unknown key are refused with AWS's errors, and a revoked key stops working within a second.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe } from 'node:test';

import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import { MODELS, TRANSPORTS, baseConfig, sleep, sluiceTest, startSluice } from './support/sluice.mjs';

const run = promisify(execFile);

const ROLE_ARN = 'arn:aws:iam::000000000000:role/CustomerServiceApp-BedrockRole';

function clientWith(endpoint, transport, credentials) {
  const options = { region: 'us-east-1', endpoint, credentials, maxAttempts: 1 };
  if (transport.id === 'http1') {
    options.requestHandler = new NodeHttpHandler();
  }
  return new BedrockRuntimeClient(options);
}

function question(text) {
  return { modelId: MODELS.novaLite, messages: [{ role: 'user', content: [{ text }] }] };
}

async function keys(server, ...args) {
  const dataDir = path.join(server.dir, 'data');
  const { stdout } = await run(process.env.SLUICE_BIN, ['keys', ...args, '--data-dir', dataDir]);
  return stdout;
}

async function expectRefusal(promise, name) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata.httpStatusCode, 403);
    return true;
  });
}

let server;

before(async () => {
  server = await startSluice({ ...baseConfig(), auth: { anonymous: 'off' } }, 'keys');
});

after(async () => {
  await server?.stop();
});

for (const transport of TRANSPORTS) {
  describe(`keys issued by sluice keys over ${transport.name}`, () => {
    let issued;

    before(async () => {
      const text = await keys(server, 'create', '--application', 'CustomerServiceApp', '--team', 'support', '--format', 'json');
      issued = JSON.parse(text);
    });

    sluiceTest('prints credentials for the AWS SDK and the OpenAI SDK', async () => {
      assert.match(issued.accessKeyId, /^AKIA[A-Z0-9]{16}$/);
      assert.equal(issued.secretAccessKey.length, 40);
      assert.match(issued.apiKey, /^sk-sluice-/);
      assert.equal(issued.principal.arn, ROLE_ARN);
    });

    sluiceTest('serves a request the SDK signed with an issued key, as its principal', async () => {
      const client = clientWith(server.endpoint, transport, {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
      });
      try {
        const answer = await client.send(new ConverseCommand(question('Who am I?')));

        assert.equal(answer.$metadata.httpStatusCode, 200);
        const line = await server.accessLogLine(answer.$metadata.requestId);
        assert.match(line, new RegExp(`principal=${ROLE_ARN.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      } finally {
        client.destroy();
      }
    });

    sluiceTest('refuses a forged signature with InvalidSignatureException', async () => {
      const client = clientWith(server.endpoint, transport, {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: 'not-the-secret-sluice-issued-for-this-key',
      });
      try {
        await expectRefusal(client.send(new ConverseCommand(question('Let me in.'))), 'InvalidSignatureException');
      } finally {
        client.destroy();
      }
    });

    sluiceTest('refuses a key it never issued with UnrecognizedClientException', async () => {
      const client = clientWith(server.endpoint, transport, {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret',
      });
      try {
        await expectRefusal(client.send(new ConverseCommand(question('Hello?'))), 'UnrecognizedClientException');
      } finally {
        client.destroy();
      }
    });

    sluiceTest('stops honouring a revoked key within a second', async () => {
      const fresh = JSON.parse(await keys(server, 'create', '--application', 'ShortLived', '--format', 'json'));
      const client = clientWith(server.endpoint, transport, {
        accessKeyId: fresh.accessKeyId,
        secretAccessKey: fresh.secretAccessKey,
      });
      try {
        const before = await client.send(new ConverseCommand(question('Still valid?')));
        assert.equal(before.$metadata.httpStatusCode, 200);

        await keys(server, 'revoke', fresh.accessKeyId);
        await sleep(1_000);

        await expectRefusal(client.send(new ConverseCommand(question('And now?'))), 'UnrecognizedClientException');
      } finally {
        client.destroy();
      }
    });
  });
}
