import { type FloorProcess, startFloorProcess } from './floor-process.js';

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

export type NodeProxyFloor = FloorProcess;

/** Starts the floor proxy for the given name → address map; stop() ends it. */
export function startNodeProxyFloor(dir: string, names: Record<string, string>): Promise<NodeProxyFloor> {
  return startFloorProcess({ dir, fileName: 'node-proxy-floor.js', source, args: [JSON.stringify(names)], what: 'the floor proxy' });
}
