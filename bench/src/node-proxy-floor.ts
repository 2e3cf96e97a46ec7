import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The floor of any proxy written in Node: a forward proxy with no policy, no
 * audit and no relay (absolute-form HTTP through a keep-alive agent, CONNECT
 * as two piped sockets), in a process of its own on the host. What the egress
 * proxy costs beyond it is Paddock's own work; what it costs up to it is
 * Node's streams and the extra hop.
 */
const source = String.raw`'use strict';
const http = require('http');
const net = require('net');
const names = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const server = http.createServer((req, res) => {
  const url = new URL(req.url);
  const headers = Object.assign({}, req.headers);
  delete headers['proxy-connection'];
  const up = http.request({ host: names[url.hostname], port: Number(url.port || 80), method: req.method, path: url.pathname + url.search, headers, agent, setHost: false }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 120000;
server.on('connect', (req, socket, head) => {
  const i = req.url.lastIndexOf(':');
  const up = net.connect({ host: names[req.url.slice(0, i)], port: Number(req.url.slice(i + 1)), noDelay: true }, () => {
    socket.setNoDelay(true);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  const end = () => { socket.destroy(); up.destroy(); };
  up.on('error', end);
  socket.on('error', end);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

export interface NodeProxyFloor {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts the floor proxy for the given name → address map; stop() ends it. */
export async function startNodeProxyFloor(dir: string, names: Record<string, string>): Promise<NodeProxyFloor> {
  const file = join(dir, 'node-proxy-floor.js');
  await writeFile(file, source);
  const child: ChildProcess = spawn(process.execPath, [file, JSON.stringify(names)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the floor proxy exited (${code}) before listening`)));
    child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  return {
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
