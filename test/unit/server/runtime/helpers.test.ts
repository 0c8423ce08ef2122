import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataDir, identityPath, lockDataDir } from '../../../../src/server/datadir.js';
import { toServiceError } from '../../../../src/server/grpc/errors.js';
import {
  accessRequestPageLimit,
  DEFAULT_PAGE,
  listResourcesLimit,
  paginate,
} from '../../../../src/server/grpc/paging.js';
import { parseListen } from '../../../../src/server/index.js';
import { parseKubeResourceType } from '../../../../src/server/kube-service.js';
import { uuidv7 } from '../../../../src/server/requests/wire.js';
import { ServerError } from '../../../../src/server/types.js';

describe('parseListen', () => {
  it('accepts HOST:PORT and bracketed IPv6', () => {
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:3025')).toEqual({ host: '[::1]', port: 3025 });
    expect(parseListen('localhost:3025')).toEqual({ host: 'localhost', port: 3025 });
  });

  it('rejects anything else', () => {
    for (const bad of ['3025', '::1:3025', 'host:', 'host:99999', 'a:b']) {
      expect(() => parseListen(bad)).toThrow(/invalid listen address/);
    }
  });
});

describe('uuidv7', () => {
  it('makes UUIDv7 IDs that sort by time', () => {
    const a = uuidv7(new Date(1_700_000_000_000));
    const b = uuidv7(new Date(1_700_000_000_001));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(a.replace(/-/g, '').slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });
});

describe('paginate', () => {
  const items = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
  const key = (s: string) => [s];

  it('walks all pages in order and ends with an empty key', () => {
    const seen: string[] = [];
    let startKey = '';
    do {
      const { page, nextKey } = paginate(items, key, { descending: false, limit: 2, startKey });
      seen.push(...page);
      startKey = nextKey;
    } while (startKey);
    expect(seen).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
  });

  it('pages descending', () => {
    const first = paginate(items, key, { descending: true, limit: 3, startKey: '' });
    expect(first.page).toEqual(['echo', 'delta', 'charlie']);
    expect(paginate(items, key, { descending: true, limit: 3, startKey: first.nextKey }).page).toEqual([
      'bravo',
      'alpha',
    ]);
  });

  it('rejects a malformed key with InvalidArgument', () => {
    expect(() => paginate(items, key, { descending: false, limit: 2, startKey: '%%%' })).toThrow(
      expect.objectContaining({ code: 3 }),
    );
  });
});

describe('accessRequestPageLimit (access_request_cache.go, ListMatchingAccessRequests)', () => {
  it('unset is the default chunk; up to 16,000 is served as asked, never cut to a smaller page', () => {
    expect(accessRequestPageLimit(0)).toBe(DEFAULT_PAGE);
    expect(accessRequestPageLimit(500)).toBe(500);
    expect(accessRequestPageLimit(12_000)).toBe(12_000);
    expect(accessRequestPageLimit(16_000)).toBe(16_000);
  });

  it('more than 16,000 is refused', () => {
    expect(() => accessRequestPageLimit(16_001)).toThrow('page size of 16001 is too large');
  });
});

describe('listResourcesLimit (ListResourcesRequest.CheckAndSetDefaults)', () => {
  it('unset is the default chunk, any positive size is served as asked, a negative one refused', () => {
    expect(listResourcesLimit(0)).toBe(DEFAULT_PAGE);
    expect(listResourcesLimit(25_000)).toBe(25_000);
    expect(() => listResourcesLimit(-1)).toThrow('negative parameter limit');
  });
});

describe('parseKubeResourceType', () => {
  it('reads every spelling clients send', () => {
    expect(parseKubeResourceType('kube:ns:pods')).toEqual({ plural: 'pods', apiGroup: '' });
    expect(parseKubeResourceType('kube:ns:deployments.apps')).toEqual({
      plural: 'deployments',
      apiGroup: 'apps',
    });
    expect(parseKubeResourceType('pod')).toEqual({ plural: 'pods', apiGroup: '' });
    expect(parseKubeResourceType('deployment')).toEqual({ plural: 'deployments', apiGroup: 'apps' });
    expect(parseKubeResourceType('namespace')).toEqual({ plural: 'namespaces', apiGroup: '' });
    expect(parseKubeResourceType('pods')).toEqual({ plural: 'pods' });
    expect(parseKubeResourceType('jobs.batch')).toEqual({ plural: 'jobs', apiGroup: 'batch' });
  });

  it('rejects empty and malformed types', () => {
    expect(() => parseKubeResourceType('')).toThrow(expect.objectContaining({ code: 3 }));
    expect(() => parseKubeResourceType('kube:xx:pods')).toThrow(expect.objectContaining({ code: 3 }));
  });
});

describe('toServiceError', () => {
  it('keeps ServerError codes and hides nothing but the stack', () => {
    expect(toServiceError(new ServerError(5, 'gone'))).toMatchObject({ code: 5, details: 'gone' });
    const logged: string[] = [];
    expect(toServiceError(new Error('boom'), (l) => logged.push(l))).toMatchObject({
      code: 2,
      details: 'boom',
    });
    expect(logged[0]).toMatch(/internal error: Error: boom/);
  });
});

describe('data directory', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'access-datadir-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps identity paths inside identities/', () => {
    const dir = dataDir(root);
    expect(identityPath(dir, 'alice')).toBe(join(root, 'identities', 'alice.pem'));
    for (const bad of ['../x', 'a/b', '..', ''])
      expect(() => identityPath(dir, bad)).toThrow(/cannot be used/);
  });

  it('locks the directory, takes over a dead process lock, and releases', async () => {
    const dir = dataDir(root);
    // A PID that cannot be alive: far above any pid_max.
    await writeFile(dir.lock, `999999999 ${'0'.repeat(32)}\n`);
    const release = await lockDataDir(dir);
    expect(await readFile(dir.lock, 'utf8')).toMatch(new RegExp(`^${process.pid} [0-9a-f]{32}\n$`));
    await expect(lockDataDir(dir)).rejects.toThrow(/in use/);
    await release();
    await (await lockDataDir(dir))();
  });
});
