/**
 * tsh's names, against a server (issue 23): resource IDs as arguments of create, `ls
 * --my-requests` and `search --kube-namespace` do what our spellings do.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import type { SearchResult } from '../../src/model/search.js';
import { accessJson, NODE_WEB, startTestServer, type TestServer } from '../helpers/e2e.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

test('create takes resource IDs as arguments; ls --my-requests is --mine', async () => {
  const alice = server.env('alice');
  const node = `/${server.cluster}/node/${NODE_WEB}`;
  const req = await accessJson<AccessRequest>(
    ['request', 'create', node, '--reason', 'tsh habit', '--nowait'],
    alice,
  );
  expect(req.resources).toEqual([node]);
  const mine = await accessJson<AccessRequest[]>(['request', 'ls', '--my-requests'], alice);
  expect(mine.map((r) => r.id)).toEqual(
    await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice).then((l) => l.map((r) => r.id)),
  );
  expect(mine.map((r) => r.id)).toContain(req.id);
});

test('search --kube-namespace is --namespace', async () => {
  const alice = server.env('alice');
  const args = [
    'request',
    'search',
    '--kind',
    'kube_resource',
    '--kube-kind',
    'pods',
    '--kube-cluster',
    'minikube',
  ];
  const tsh = await accessJson<SearchResult[]>([...args, '--kube-namespace', 'prod'], alice);
  expect(tsh.map((r) => r.name)).toEqual(['redis']);
  expect(tsh).toEqual(await accessJson<SearchResult[]>([...args, '--namespace', 'prod'], alice));
});
