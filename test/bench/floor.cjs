// The floor of any Node client for the CLI benchmark (cli.bench.mjs): read an identity file,
// open TLS (its CA, client certificate) with HTTP/2 to the Auth Service, make one gRPC call
// (Ping, an empty request), print how many bytes came back. No CLI, no protobuf code.
// Usage: node floor.cjs ADDR IDENTITY_FILE
'use strict';
const { readFileSync } = require('node:fs');
const http2 = require('node:http2');
const tls = require('node:tls');

const [addr, identity] = process.argv.slice(2);
const blocks = readFileSync(identity, 'utf8').match(
  /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----\n?/g,
);
const colon = addr.lastIndexOf(':');
const session = http2.connect('https://teleport.cluster.local', {
  createConnection: () =>
    tls.connect({
      host: addr.slice(0, colon),
      port: Number(addr.slice(colon + 1)),
      servername: 'teleport.cluster.local',
      ALPNProtocols: ['h2'],
      key: blocks[0],
      cert: blocks[1],
      ca: blocks.slice(2),
    }),
});
const call = session.request({
  ':method': 'POST',
  ':path': '/proto.AuthService/Ping',
  'content-type': 'application/grpc',
  te: 'trailers',
});
call.end(Buffer.alloc(5));
let bytes = 0;
call.on('data', (chunk) => {
  bytes += chunk.length;
});
call.on('trailers', (trailers) => {
  process.stdout.write(`${bytes} bytes, grpc-status ${trailers['grpc-status']}\n`);
  session.close();
});
