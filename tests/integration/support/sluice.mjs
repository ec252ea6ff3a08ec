// Starts the real `sluice` binary for the integration tests, and builds the SDK clients that
// talk to it. Every server gets its own temporary config file and data directory, listens on an
// ephemeral loopback port, and is stopped with SIGTERM (SIGKILL if it does not go away).

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';

// The project runs Node 20; the pinned SDK supports it but warns that later releases will not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const LISTENING = /listening address=http:\/\/127\.0\.0\.1:(\d+)/;

// Lines kept per output stream; enough to see what happened around a failure.
const KEPT_LINES = 400;

/// Model IDs the embedded catalog serves through the simulator.
export const MODELS = Object.freeze({
  // Claude models are sold through inference profiles only: call them by a `us.` profile.
  claude: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  // In-region in us-east-1, the gateway's region in these tests.
  novaLite: 'amazon.nova-lite-v1:0',
  novaLiteUs: 'us.amazon.nova-lite-v1:0',
});

/// The two ways the JavaScript SDK reaches a Bedrock endpoint. Every SDK test runs over both.
export const TRANSPORTS = Object.freeze([
  Object.freeze({ id: 'h2', name: 'HTTP/2 (SDK default handler)', accessLogProtocol: 'h2' }),
  Object.freeze({ id: 'http1', name: 'HTTP/1.1 (NodeHttpHandler)', accessLogProtocol: 'http/1.1' }),
]);

/// Servers that are running now, so a failing test can show what they logged.
const running = new Set();

/// Minimal YAML for plain nested objects of strings, numbers and booleans; lists are written in
/// YAML's flow style, which is JSON.
export function toYaml(value, indent = '') {
  let out = '';
  for (const [key, item] of Object.entries(value)) {
    if (Array.isArray(item)) {
      out += `${indent}${key}: ${JSON.stringify(item)}\n`;
    } else if (item !== null && typeof item === 'object') {
      out += `${indent}${key}:\n${toYaml(item, `${indent}  `)}`;
    } else if (typeof item === 'string') {
      out += `${indent}${key}: ${JSON.stringify(item)}\n`;
    } else if (typeof item === 'number' || typeof item === 'boolean') {
      out += `${indent}${key}: ${item}\n`;
    } else {
      throw new TypeError(`toYaml: unsupported value at ${key}`);
    }
  }
  return out;
}

/// The config every test server starts from: us-east-1 caller, instant simulated answers.
export function baseConfig({ timeScale = 0, regions = {}, simulator = {} } = {}) {
  const config = {
    region: 'us-east-1',
    log: { level: 'info', access_log: 'stdout' },
    // The SDK clients sign with keys sluice never issued: serve them as on the embedded default.
    auth: { anonymous: 'loopback' },
    server: { max_body_bytes: 25_000_000 },
    simulator: { time_scale: timeScale, ...simulator },
  };
  if (Object.keys(regions).length > 0) {
    config.simulator.regions = regions;
  }
  return config;
}

class OutputLog {
  constructor(name) {
    this.name = name;
    this.lines = [];
    this.partial = '';
    this.waiters = [];
  }

  append(chunk) {
    const text = this.partial + chunk.toString('utf8');
    const pieces = text.split('\n');
    this.partial = pieces.pop();
    for (const line of pieces) {
      this.lines.push(line);
      if (this.lines.length > KEPT_LINES) {
        this.lines.shift();
      }
      for (const waiter of [...this.waiters]) {
        if (waiter.pattern.test(line)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  }

  find(pattern) {
    return this.lines.find((line) => pattern.test(line));
  }

  /// Resolves with the first line (already seen or still to come) that matches.
  waitFor(pattern, timeoutMs) {
    const seen = this.find(pattern);
    if (seen !== undefined) {
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter = { pattern, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) {
          this.waiters.splice(index, 1);
          reject(new Error(`no ${this.name} line matching ${pattern} within ${timeoutMs} ms`));
        }
      }, timeoutMs).unref();
    });
  }

  text() {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.join('\n');
  }
}

/// One running `sluice serve` process.
export class SluiceServer {
  constructor(child, dir, label) {
    this.child = child;
    this.dir = dir;
    this.label = label;
    this.stdout = new OutputLog('stdout');
    this.stderr = new OutputLog('stderr');
    this.port = 0;
    this.stopped = false;
    child.stdout.on('data', (chunk) => this.stdout.append(chunk));
    child.stderr.on('data', (chunk) => this.stderr.append(chunk));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      // A process that never started emits 'error' and no 'exit'.
      child.on('error', () => {
        if (child.pid === undefined) {
          resolve({ code: null, signal: null });
        }
      });
    });
    this.exitStatus = null;
    this.exited.then((status) => {
      this.exitStatus = status;
    });
  }

  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }

  /// Everything the process wrote, for a failure message.
  describe() {
    const state =
      this.exitStatus === null
        ? 'running'
        : `EXITED code=${this.exitStatus.code} signal=${this.exitStatus.signal}`;
    return [
      `--- sluice "${this.label}" (pid ${this.child.pid}, ${this.endpoint}, ${state}) stderr ---`,
      this.stderr.text(),
      `--- sluice "${this.label}" stdout ---`,
      this.stdout.text(),
      '--- end ---',
    ].join('\n');
  }

  /// Gives a process that is dying (a crash often shows as a dropped connection) a moment to be
  /// seen dead, so that describe() reports how it ended.
  async settle() {
    await Promise.race([this.exited, sleep(300)]);
  }

  signal(name) {
    if (this.exitStatus === null) {
      this.child.kill(name);
    }
  }

  /// The access-log line of one request, waited for because access logging is asynchronous.
  async accessLogLine(requestId, timeoutMs = 3_000) {
    const escaped = requestId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return this.stdout.waitFor(new RegExp(`request_id=${escaped}(\\s|$)`), timeoutMs);
  }

  /// Waits for the process to end on its own; SIGKILL after `timeoutMs`. Returns the status.
  async waitForExit(timeoutMs = STOP_TIMEOUT_MS) {
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      running.delete(this);
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /// SIGTERM, then waits; throws unless the process exited with status 0.
  async stop() {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    this.signal('SIGTERM');
    const status = await this.waitForExit();
    if (status.code !== 0) {
      throw new Error(
        `sluice "${this.label}" did not exit cleanly after SIGTERM: ` +
          `code=${status.code} signal=${status.signal}\n${this.describe()}`,
      );
    }
  }
}

async function binaryPath() {
  const bin = process.env.SLUICE_BIN;
  if (!bin) {
    throw new Error('SLUICE_BIN must name the sluice binary (an absolute path)');
  }
  const resolved = path.resolve(bin);
  try {
    await access(resolved, constants.X_OK);
  } catch (error) {
    throw new Error(`SLUICE_BIN=${bin} is not an executable file (${error.code})`);
  }
  return resolved;
}

/// Starts `sluice serve` with `config` (an object written as YAML) and waits until it listens.
export async function startSluice(config = baseConfig(), label = 'sluice') {
  const bin = await binaryPath();
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-it-'));
  const configFile = path.join(dir, 'sluice.yaml');
  const dataDir = path.join(dir, 'data');
  await writeFile(configFile, toYaml(config));

  const child = spawn(
    bin,
    ['serve', '--config', configFile, '--listen', '127.0.0.1:0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server = new SluiceServer(child, dir, label);
  running.add(server);

  const spawnFailed = new Promise((_, reject) => {
    child.on('error', (error) => reject(new Error(`cannot start ${bin}: ${error.message}`)));
  });
  const exitedEarly = server.exited.then((status) => {
    throw new Error(
      `sluice exited before listening: code=${status.code} signal=${status.signal}\n` +
        server.describe(),
    );
  });
  try {
    const line = await Promise.race([
      server.stderr.waitFor(LISTENING, STARTUP_TIMEOUT_MS),
      exitedEarly,
      spawnFailed,
    ]);
    server.port = Number(LISTENING.exec(line)[1]);
  } catch (error) {
    server.signal('SIGKILL');
    await server.waitForExit(1_000);
    if (/within/.test(error.message)) {
      error.message += `\n${server.describe()}`;
    }
    throw error;
  } finally {
    exitedEarly.catch(() => {});
    spawnFailed.catch(() => {});
  }
  return server;
}

/// Runs `fn(server, client)` against a server of its own, which is stopped afterwards (and must
/// exit 0). For tests that change a server's state or need a config of their own.
export async function withSluice(config, label, transport, fn) {
  const server = await startSluice(config, label);
  const client = makeClient(server.endpoint, transport);
  let failed = false;
  try {
    return await fn(server, client);
  } catch (error) {
    failed = true;
    if (error instanceof Error) {
      await server.settle();
      error.message += `\n${server.describe()}`;
    }
    throw error;
  } finally {
    client.destroy();
    if (failed) {
      // Keep the test's own failure rather than one about how the process ended.
      server.signal('SIGKILL');
      await server.waitForExit(1_000);
    } else {
      await server.stop();
    }
  }
}

/// A Bedrock Runtime client pointed at `endpoint`, over the given transport, without retries.
export function makeClient(endpoint, transport) {
  const options = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  };
  if (transport.id === 'http1') {
    options.requestHandler = new NodeHttpHandler();
  }
  return new BedrockRuntimeClient(options);
}

// A test that has not finished by then fails, so a hung request cannot stall the whole run.
const TEST_TIMEOUT_MS = 20_000;

/// Like node:test's `test`, but a failure also shows what every running sluice logged, and a
/// test that hangs fails after `timeout` ms (with the logs, which node's own timeout would lose);
/// servers the hung test started are killed, so that nothing it left behind keeps running.
export function sluiceTest(name, fn, { timeout = TEST_TIMEOUT_MS } = {}) {
  return test(name, { timeout: timeout + 5_000 }, async (t) => {
    const before = new Set(running);
    let timer;
    const hung = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no result within ${timeout} ms (a request or stream hung)`)),
        timeout,
      );
    });
    const body = fn(t);
    try {
      await Promise.race([body, hung]);
    } catch (error) {
      for (const server of running) {
        await server.settle();
        t.diagnostic(server.describe());
      }
      const own = [...running].filter((server) => !before.has(server));
      if (own.length > 0 && /no result within/.test(error.message)) {
        own.forEach((server) => server.signal('SIGKILL'));
        await Promise.all(own.map((server) => server.waitForExit(1_000)));
        await Promise.race([body.catch(() => {}), sleep(2_000)]);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  });
}

/// Changes a simulated region through the admin API; throws unless it answers 200.
export async function setRegion(endpoint, region, settings) {
  const response = await fetch(`${endpoint}/admin/simulator/regions/${region}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  const body = await response.text();
  if (response.status !== 200) {
    throw new Error(`PUT /admin/simulator/regions/${region} answered ${response.status}: ${body}`);
  }
  return JSON.parse(body);
}

/// A plain HTTP request over HTTP/1.1 (fetch) or HTTP/2 cleartext with prior knowledge.
/// Resolves with {status, headers (lower-case names), body (string)}.
export async function rawRequest(endpoint, transport, { method = 'GET', path: target, headers = {}, body }) {
  if (transport.id === 'http1') {
    const response = await fetch(`${endpoint}${target}`, { method, headers, body });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    };
  }
  const session = http2.connect(endpoint);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({ ':method': method, ':path': target, ...headers });
      let status = 0;
      let responseHeaders = {};
      const chunks = [];
      stream.on('response', (received) => {
        status = received[':status'];
        responseHeaders = Object.fromEntries(
          Object.entries(received)
            .filter(([name]) => !name.startsWith(':'))
            .map(([name, value]) => [name.toLowerCase(), String(value)]),
        );
      });
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () =>
        resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') }),
      );
      stream.on('error', reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

/// Collects every event of an SDK event stream; an error thrown mid-stream is returned, not
/// thrown, together with the events that came before it.
export async function drain(stream) {
  const events = [];
  try {
    for await (const event of stream) {
      events.push(event);
    }
  } catch (error) {
    return { events, error };
  }
  return { events, error: null };
}

/// The union member an SDK stream event carries, e.g. 'messageStart'.
export function eventName(event) {
  const names = Object.keys(event).filter((key) => event[key] !== undefined);
  return names.length === 1 ? names[0] : names.join('+');
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export { sleep };
