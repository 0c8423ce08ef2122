import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccessRequestV3, RequestState } from '../../../../src/gen/teleport/legacy/types/types.js';
import { type Commit, RequestStore } from '../../../../src/server/storage/store.js';
import type { Damage } from '../../../../src/server/storage/store-log.js';
import { ServerError } from '../../../../src/server/types.js';

function request(id: string, user: string, createdMs: number, extra: Partial<AccessRequestV3['spec']> = {}) {
  return {
    kind: 'access_request',
    subKind: '',
    version: 'v3',
    metadata: {
      name: id,
      namespace: 'default',
      description: '',
      labels: {},
      expires: undefined,
      revision: '',
    },
    spec: {
      user,
      roles: ['dba'],
      state: RequestState.PENDING,
      created: new Date(createdMs),
      expires: new Date(createdMs + 3_600_000),
      requestReason: '',
      resolveReason: '',
      resolveAnnotations: undefined,
      systemAnnotations: undefined,
      thresholds: [],
      roleThresholdMapping: {},
      reviews: [],
      suggestedReviewers: [],
      requestedResourceIds: [],
      loginHint: '',
      dryRun: false,
      maxDuration: undefined,
      sessionTtl: undefined,
      accessList: undefined,
      assumeStartTime: undefined,
      resourceExpiry: undefined,
      ...extra,
    },
  } as AccessRequestV3;
}

let dir: string;
let path: string;
let store: RequestStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-store-'));
  path = join(dir, 'requests.log');
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function closeStore(): Promise<void> {
  await store?.close();
  store = undefined;
}

async function reopen(opts = {}): Promise<RequestStore> {
  await closeStore();
  store = await RequestStore.open(path, opts);
  return store;
}

describe('RequestStore durability', () => {
  it('replays puts and deletes after reopen, with revisions', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await s.create(request('b', 'bob', 2000));
    await s.mutate('a', (cur) => ({
      op: 'put',
      value: { ...cur!, spec: { ...cur!.spec!, state: RequestState.APPROVED } },
    }));
    await s.mutate('b', () => ({ op: 'delete' }));
    const again = await reopen();
    expect(again.count).toBe(1);
    expect(again.get('a')?.spec?.state).toBe(RequestState.APPROVED);
    expect(again.get('a')?.spec?.created?.getTime()).toBe(1000);
    expect(again.get('b')).toBeUndefined();
    expect(Number(again.get('a')?.metadata?.revision)).toBeGreaterThan(1);
    const before = Number(again.get('a')?.metadata?.revision);
    await again.mutate('a', (cur) => ({ op: 'put', value: cur! }));
    expect(Number(again.get('a')?.metadata?.revision)).toBeGreaterThan(before);
  });

  it('refuses a record too large to replay, leaving the log loadable', async () => {
    const s = await reopen();
    const huge = request('big', 'alice', 1000, { requestReason: 'x'.repeat(16 * 1024 * 1024) });
    await expect(s.create(huge)).rejects.toMatchObject({ code: 8 });
    await s.create(request('a', 'alice', 2000));
    const again = await reopen();
    expect(again.get('big')).toBeUndefined();
    expect(again.get('a')?.spec?.user).toBe('alice');
  });

  it('refuses a duplicate ID with AlreadyExists', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await expect(s.create(request('a', 'bob', 2000))).rejects.toMatchObject({ code: 6 });
    expect(s.get('a')?.spec?.user).toBe('alice');
  });

  it('drops a torn last record and keeps appending after it', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await s.create(request('b', 'alice', 2000));
    await s.close();
    store = undefined;
    const size = (await stat(path)).size;
    // Half of a third record: a header promising more bytes than exist.
    const head = Buffer.alloc(8);
    head.writeUInt32BE(500, 0);
    await appendFile(path, Buffer.concat([head, Buffer.from('partial')]));
    const damages: Damage[] = [];
    const s2 = await reopen({ onDamage: (d: Damage) => damages.push(d) });
    expect(s2.count).toBe(2);
    expect((await stat(path)).size).toBe(size);
    // Even a torn last record is copied aside, never only dropped.
    expect(damages).toMatchObject([{ bytes: 15, recovered: 2 }]);
    expect((await readFile(damages[0].copiedTo)).subarray(8).toString()).toBe('partial');
    await s2.create(request('c', 'alice', 3000));
    const s3 = await reopen();
    expect([...s3.all()].map((r) => r.metadata?.name)).toEqual(['a', 'b', 'c']);
  });

  it('drops a record cut short in the middle of its header or payload', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await s.create(request('b', 'alice', 2000));
    await s.close();
    store = undefined;
    const full = (await stat(path)).size;
    for (const cut of [3, 20]) {
      await truncate(path, full - cut);
      const s2 = await reopen();
      expect(s2.count).toBe(1);
      expect(s2.get('a')).toBeDefined();
      await s2.create(request('b', 'alice', 2000));
      await s2.close();
      store = undefined;
      expect((await stat(path)).size).toBe(full);
    }
  });

  it('treats zero fill and random garbage at the tail as a lost tail, never failing the load', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await s.close();
    store = undefined;
    await appendFile(path, Buffer.alloc(4096));
    expect((await reopen()).count).toBe(1);
    await closeStore();
    await appendFile(path, Buffer.from('this is not a record at all, just text appended by accident'));
    expect((await reopen()).count).toBe(1);
    // Every open that finds unreplayable bytes keeps them in a copy of its own.
    const aside = (await readdir(dir)).filter((f) => f.startsWith('requests.log.damaged-')).sort();
    expect(aside).toHaveLength(2);
    const copies = await Promise.all(aside.map((f) => readFile(join(dir, f))));
    expect(copies.map((c) => c.length).sort((a, b) => a - b)).toEqual([59, 4096]);
    expect(Buffer.concat(copies).toString()).toContain('not a record');
  });

  it('refuses a file that is not a request log', async () => {
    await writeFile(path, 'hello world, some other file\n');
    await expect(RequestStore.open(path)).rejects.toThrow(/not an access request log/);
  });

  it('compacts on open when the log is mostly dead records', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    for (let i = 0; i < 200; i++) {
      await s.mutate('a', (cur) => ({
        op: 'put',
        value: { ...cur!, spec: { ...cur!.spec!, requestReason: `r${i}` } },
      }));
    }
    await s.close();
    store = undefined;
    const before = (await stat(path)).size;
    const logs: string[] = [];
    const s2 = await reopen({ compactMinBytes: 1024, log: (l: string) => logs.push(l) });
    const after = (await stat(path)).size;
    expect(after).toBeLessThan(before / 10);
    expect(logs.join('\n')).toMatch(/compacted/);
    expect(s2.get('a')?.spec?.requestReason).toBe('r199');
    await s2.mutate('a', (cur) => ({
      op: 'put',
      value: { ...cur!, spec: { ...cur!.spec!, requestReason: 'last' } },
    }));
    expect((await reopen()).get('a')?.spec?.requestReason).toBe('last');
  });
});

describe('RequestStore concurrency', () => {
  it('serializes mutations of one request so none is lost', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.mutate('a', async (cur) => {
          // Yield between read and write: an unserialized store would lose updates here.
          await new Promise((r) => setImmediate(r));
          return {
            op: 'put',
            value: {
              ...cur!,
              spec: { ...cur!.spec!, suggestedReviewers: [...cur!.spec!.suggestedReviewers, `u${i}`] },
            },
          };
        }),
      ),
    );
    expect(s.get('a')?.spec?.suggestedReviewers).toHaveLength(50);
    expect((await reopen()).get('a')?.spec?.suggestedReviewers).toHaveLength(50);
  });

  it('makes every concurrently acknowledged create durable', async () => {
    const s = await reopen();
    await Promise.all(Array.from({ length: 300 }, (_, i) => s.create(request(`id-${i}`, 'alice', 1000 + i))));
    expect((await reopen()).count).toBe(300);
  });

  it('leaves the request unchanged when the mutation throws', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await expect(
      s.mutate('a', () => {
        throw new ServerError(9, 'nope');
      }),
    ).rejects.toMatchObject({ code: 9 });
    expect(s.get('a')?.metadata?.revision).toBe('1');
  });

  it('hands the mutation a private copy', async () => {
    const s = await reopen();
    await s.create(request('a', 'alice', 1000));
    await s.mutate('a', (cur) => {
      cur!.spec!.roles.push('mutated');
      return undefined;
    });
    expect(s.get('a')?.spec?.roles).toEqual(['dba']);
  });

  it('notifies listeners after the change, with before and after', async () => {
    const s = await reopen();
    const seen: Commit[] = [];
    s.onCommit((c) => seen.push(c));
    await s.create(request('a', 'alice', 1000));
    await s.mutate('a', () => ({ op: 'delete' }));
    expect(seen.map((c) => [c.op, c.id, c.before?.spec?.user, c.after?.spec?.user])).toEqual([
      ['put', 'a', undefined, 'alice'],
      ['delete', 'a', 'alice', undefined],
    ]);
  });

  it('refuses changes after close with Unavailable', async () => {
    const s = await reopen();
    await s.close();
    store = undefined;
    await expect(s.create(request('a', 'alice', 1000))).rejects.toMatchObject({ code: 14 });
  });
});

describe('RequestStore listing', () => {
  async function seeded(): Promise<RequestStore> {
    const s = await reopen();
    const users = ['carol', 'alice', 'bob'];
    for (let i = 0; i < 30; i++) {
      await s.create(
        request(`r${String(i).padStart(2, '0')}`, users[i % 3], 10_000 + i * 1000, {
          state: i % 4 === 0 ? RequestState.APPROVED : RequestState.PENDING,
        }),
      );
    }
    return s;
  }

  function allPages(s: RequestStore, q: Omit<Parameters<RequestStore['page']>[0], 'startKey'>) {
    const out: string[] = [];
    let startKey = '';
    let pages = 0;
    do {
      const page = s.page({ ...q, startKey });
      out.push(...page.items.map((r) => r.metadata!.name));
      startKey = page.nextKey;
      pages++;
    } while (startKey && pages < 100);
    return { ids: out, pages };
  }

  it('pages in creation order, both directions, ending with an empty nextKey', async () => {
    const s = await seeded();
    const asc = allPages(s, { sort: 'created', descending: false, limit: 7, match: () => true });
    expect(asc.ids).toEqual(Array.from({ length: 30 }, (_, i) => `r${String(i).padStart(2, '0')}`));
    expect(asc.pages).toBe(5);
    const desc = allPages(s, { sort: 'created', descending: true, limit: 7, match: () => true });
    expect(desc.ids).toEqual([...asc.ids].reverse());
  });

  it('pages by ID, the DEFAULT index of lib/services/access_request_cache.go, whatever the creation order', async () => {
    const s = await reopen();
    await s.create(request('z-first', 'alice', 1000));
    await s.create(request('a-second', 'alice', 2000));
    await s.create(request('m-third', 'alice', 3000));
    const all = { descending: false, limit: 2, match: () => true };
    expect(allPages(s, { ...all, sort: 'id' }).ids).toEqual(['a-second', 'm-third', 'z-first']);
    expect(allPages(s, { ...all, sort: 'created' }).ids).toEqual(['z-first', 'a-second', 'm-third']);
  });

  it('sorts by user and by state, filtering with match, visiting each request once per page', async () => {
    const s = await seeded();
    const byUser = allPages(s, { sort: 'user', descending: false, limit: 4, match: () => true }).ids;
    const users = byUser.map((id) => s.get(id)!.spec!.user);
    expect(users).toEqual([...users].sort());
    const visits = new Map<string, number>();
    const pending = s.page({
      sort: 'state',
      descending: true,
      startKey: '',
      limit: 100,
      match: (r) => {
        visits.set(r.metadata!.name, (visits.get(r.metadata!.name) ?? 0) + 1);
        return r.spec!.state === RequestState.PENDING;
      },
    });
    expect(Math.max(...visits.values())).toBe(1);
    expect(pending.items.every((r) => r.spec!.state === RequestState.PENDING)).toBe(true);
    expect(pending.items).toHaveLength(22);
  });

  it('keeps a page stable when requests are deleted between pages', async () => {
    const s = await seeded();
    const first = s.page({ sort: 'created', descending: false, startKey: '', limit: 10, match: () => true });
    await s.mutate('r10', () => ({ op: 'delete' }));
    const second = s.page({
      sort: 'created',
      descending: false,
      startKey: first.nextKey,
      limit: 10,
      match: () => true,
    });
    expect(second.items[0].metadata?.name).toBe('r11');
  });

  it('refuses a start key from another sort order', async () => {
    const s = await seeded();
    const first = s.page({ sort: 'created', descending: false, startKey: '', limit: 10, match: () => true });
    expect(() =>
      s.page({ sort: 'user', descending: false, startKey: first.nextKey, limit: 10, match: () => true }),
    ).toThrow(ServerError);
    expect(() =>
      s.page({ sort: 'user', descending: false, startKey: 'garbage!', limit: 10, match: () => true }),
    ).toThrow(/invalid start key/);
  });

  it('lists expired requests by metadata.expires', async () => {
    const s = await reopen();
    const a = request('a', 'alice', 1000);
    a.metadata!.expires = new Date(5000);
    const b = request('b', 'alice', 1000);
    b.metadata!.expires = new Date(9000);
    await s.create(a);
    await s.create(b);
    await s.create(request('c', 'alice', 1000));
    expect(s.expiredAt(new Date(6000)).map((r) => r.metadata?.name)).toEqual(['a']);
    expect(s.expiredAt(new Date(9000)).map((r) => r.metadata?.name)).toEqual(['a', 'b']);
  });
});
