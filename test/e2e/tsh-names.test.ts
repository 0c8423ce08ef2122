/**
 * tsh's names and habits, against a server (issue 23): resource IDs as arguments of create,
 * `ls --my-requests` and `search --kube-namespace` do what our spellings do; an empty list
 * suggests creating a request only to someone who may.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import type { SearchResult } from '../../src/model/search.js';
import { access, accessJson, NODE_WEB, startTestServer, type TestServer } from '../helpers/e2e.js';

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

test('an empty list hints at create only for someone who may request roles', async () => {
  const mine = await access(['request', 'ls', '--mine', '--state', 'denied'], server.env('alice'));
  expect(mine.stderr).toContain('hint: no access requests; create one with `access request create');
  // dave may request nothing: no create hint.
  const dave = await access(['request', 'ls'], server.env('dave'));
  expect(dave.code).toBe(0);
  expect(dave.stderr).toBe(
    'hint: no access requests yet; `access request watch` shows new ones as they are made\n',
  );
});

test('the plugin identity of the demo seed is not told to create requests', async () => {
  const demo = await startTestServer({ seed: null });
  try {
    const r = await access(['request', 'ls'], demo.env('access-plugin'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('request create');
  } finally {
    await demo.close();
  }
});
