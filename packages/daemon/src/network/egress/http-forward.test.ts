import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  closeServer,
  listenLocal,
  networksOf,
  recordingLog,
  resolverError,
  sandboxNetwork,
  silentLogger,
  TestPolicy,
  tableResolver,
} from '../../testing/egress-kit.js';
import { AddressGuard } from '../address-guard.js';
import type { Origin } from './arrival-header.js';
import { EgressDecider } from './egress-decider.js';
import { EgressRecords } from './egress-records.js';
import { HttpForward, type Opened } from './http-forward.js';
import { SecretInjector } from './secret-injector.js';
import { UpstreamPools } from './upstream-pools.js';

// The part alone: a front server on 127.0.0.1 hands each request to it as
// the proxy's parser would; upstreams are servers on 127.0.0.1 too.

const log = recordingLog();
const policy = new TestPolicy();
const network = sandboxNetwork('sb1', ['up.test', 'refused.test', 'down.test', '127.0.0.1'], {
  secrets: [{ name: 'TOKEN', placeholder: 'PADDOCK_PLACEHOLDER_1' }],
});
let upstream: http.Server;
let front: http.Server;
let frontPort: number;
let upstreamPort: number;
let refusedPort: number;
let revealFails = false;
let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
const pools = new UpstreamPools((sandbox) => sandbox === 'sb1');

const forward = new HttpForward({
  network: networksOf(network),
  decider: new EgressDecider({
    network: networksOf(network),
    resolver: tableResolver({ 'up.test': ['127.0.0.1'], 'refused.test': ['127.0.0.1'], 'down.test': resolverError('ETIMEOUT') }),
    guard: new AddressGuard(['127.0.0.0/8']),
    authorizer: policy,
    logger: silentLogger,
  }),
  records: new EgressRecords(log),
  injector: new SecretInjector({
    hostsOf: () => ['up.test'],
    reveal: () => {
      if (revealFails) throw new Error('unsealing failed');
      return { value: 'real-value', hosts: ['up.test'] };
    },
  }),
  pools,
  logger: silentLogger,
});

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => res.end(JSON.stringify({ url: req.url, headers: req.headers, body })));
  });
  upstreamPort = await listenLocal(upstream);
  refusedPort = await closedPort();
  front = http.createServer((req, res) => void handle(req, res));
  frontPort = await listenLocal(front);
});

afterAll(async () => {
  pools.release('sb1');
  await closeServer(front);
  await closeServer(upstream);
});

const proxied: Origin = { sandbox: 'sb1', arrival: 'proxy' };

/** One request through the front server; `answered: false` when nothing came back in time (the client would hang). */
function ask(
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ answered: boolean; status?: number; headers?: http.IncomingHttpHeaders; body?: string }> {
  return new Promise((resolve) => {
    // A proxy client names the URL's host in Host, as curl does.
    const named = path.startsWith('http://') ? { host: new URL(path).host } : {};
    const req = http.request({ host: '127.0.0.1', port: frontPort, path, method: body ? 'POST' : 'GET', headers: { ...named, ...headers }, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ answered: false });
    }, 5000);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ answered: true, status: res.statusCode, headers: res.headers, body: text });
      });
    });
    req.on('error', () => {
      clearTimeout(timer);
      resolve({ answered: true });
    });
    req.end(body);
  });
}

describe('http forward', () => {
  it('forwards an allowed proxy request to the checked address, without hop headers, and records it with its bytes', async () => {
    handle = (req, res) => forward.forwardPlain(req, res, proxied);
    log.entries.length = 0;
    const answer = await ask(`http://up.test:${upstreamPort}/x?y=1`, { 'proxy-authorization': 'Basic eA==', 'x-kept': 'yes' }, 'hello');
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body as string);
    expect(seen).toMatchObject({ url: '/x?y=1', body: 'hello', headers: { host: `up.test:${upstreamPort}`, 'x-kept': 'yes' } });
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(log.entries).toEqual([
      expect.objectContaining({ sandbox: 'sb1', via: 'http', host: 'up.test', port: upstreamPort, address: '127.0.0.1', decision: 'allow', bytesOut: 5 }),
    ]);
  });

  it('refuses with a status and a recorded reason: a name not allowed (403), a request it cannot forward as it is (400)', async () => {
    handle = (req, res) => forward.forwardPlain(req, res, proxied);
    log.entries.length = 0;
    const denied = await ask('http://other.test/');
    expect(denied).toMatchObject({ status: 403, headers: { 'x-paddock-refused': '1' } });
    const unfit = await ask(`http://up.test:${upstreamPort}/`, { connection: 'content-length' });
    expect(unfit).toMatchObject({ status: 400, body: 'paddock egress: the Connection header may not name content-length\n' });
    const relative = await ask('/not-a-url');
    expect(relative.status).toBe(400);
    expect(log.entries.map((e) => [e.decision, e.host])).toEqual([
      ['deny', 'other.test'],
      ['deny', ''],
      ['deny', ''],
    ]);
  });

  it('answers at once when the upstream refuses the connection (502) or the name does not resolve (403)', async () => {
    handle = (req, res) => forward.forwardPlain(req, res, proxied);
    log.entries.length = 0;
    expect(await ask(`http://refused.test:${refusedPort}/`)).toMatchObject({ answered: true, status: 502, body: 'paddock egress: upstream: ECONNREFUSED\n' });
    expect(await ask('http://down.test/')).toMatchObject({ answered: true, status: 403, body: 'paddock egress: cannot resolve down.test: ETIMEOUT\n' });
  });

  it('answers when the policy fails to decide, rather than leaving the client to its idle timeout', async () => {
    handle = (req, res) => forward.forwardPlain(req, res, proxied);
    policy.generation = undefined;
    policy.decide = () => {
      throw new Error('policy store unreadable');
    };
    try {
      expect(await ask(`http://up.test:${upstreamPort}/`)).toMatchObject({
        answered: true,
        status: 403,
        body: 'paddock egress: policy: the policy could not be evaluated\n',
      });
    } finally {
      policy.decide = () => ({ effect: 'allow' });
    }
  });

  it('inside HTTPS the proxy opened: refuses a path that is a URL (400) and a foreign Host (421); answers 502 when a secret cannot be read, with the refusal recorded', async () => {
    const opened: Opened = { sandbox: 'sb1', host: 'up.test', port: upstreamPort, address: '127.0.0.1' };
    handle = (req, res) => forward.forwardOpened(req, res, opened);
    log.entries.length = 0;
    expect(await ask('http://up.test/', { host: 'up.test' })).toMatchObject({ status: 400 });
    expect(await ask('/', { host: 'other.test' })).toMatchObject({
      status: 421,
      body: 'paddock egress: the request names other.test inside a connection to up.test\n',
    });
    revealFails = true;
    try {
      expect(await ask('/', { host: 'up.test', authorization: 'Bearer PADDOCK_PLACEHOLDER_1' })).toMatchObject({ answered: true, status: 502 });
    } finally {
      revealFails = false;
    }
    expect(log.entries.map((e) => [e.via, e.decision])).toEqual([
      ['tls', 'deny'],
      ['tls', 'deny'],
      ['tls', 'deny'],
    ]);
  });
});
