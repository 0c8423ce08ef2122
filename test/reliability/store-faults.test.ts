/**
 * Issue 10 items 1 and 2 at the store: a write that falls short or fails is never
 * acknowledged and never hides later writes; damaged bytes anywhere in the log are copied
 * aside while every intact record around them is kept.
 */
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessMonitoringRule } from '../../src/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { AccessRequestV3, LockV2, RequestState } from '../../src/gen/teleport/legacy/types/types.js';
import { RuleStore } from '../../src/server/storage/amr-store.js';
import { type AppendFile, openAppendFile } from '../../src/server/storage/durable-file.js';
import { LockStore } from '../../src/server/storage/lock-store.js';
import { MAGIC } from '../../src/server/storage/log-frame.js';
import { RequestStore } from '../../src/server/storage/store.js';
import type { Damage } from '../../src/server/storage/store-log.js';

function request(id: string): AccessRequestV3 {
  return AccessRequestV3.fromPartial({
    kind: 'access_request',
    version: 'v3',
    metadata: { name: id, namespace: 'default' },
    spec: { user: 'alice', roles: ['dba'], state: RequestState.PENDING, requestReason: `reason of ${id}` },
  });
}

/** How the next write or fsync misbehaves; each fault is used once. */
type Fault = 'short-then-enospc' | 'short-then-rest' | 'zero' | 'enospc' | 'eio-on-sync';

let dir: string;
let path: string;
let store: RequestStore | undefined;
let faults: Fault[];

/** The real file, with the next queued fault applied to it. */
async function faultyFile(p: string): Promise<AppendFile> {
  const real = await openAppendFile(p);
  let pendingEnospc = false;
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  return {
    ...real,
    write: async (buf, offset, length) => {
      if (pendingEnospc) {
        pendingEnospc = false;
        throw enospc();
      }
      const fault = faults[0];
      if (fault === 'enospc') {
        faults.shift();
        throw enospc();
      }
      if (fault === 'zero') {
        faults.shift();
        return 0;
      }
      if (fault === 'short-then-enospc' || fault === 'short-then-rest') {
        faults.shift();
        pendingEnospc = fault === 'short-then-enospc';
        // Part of the batch reaches the file, as a nearly full disk does.
        return real.write(buf, offset, Math.max(1, length >> 1));
      }
      return real.write(buf, offset, length);
    },
    datasync: async () => {
      if (faults[0] === 'eio-on-sync') {
        faults.shift();
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }
      return real.datasync();
    },
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-faults-'));
  path = join(dir, 'requests.log');
  faults = [];
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function reopen(opts: { onDamage?: (d: Damage) => void } = {}): Promise<RequestStore> {
  await store?.close();
  store = await RequestStore.open(path, { openAppend: faultyFile, ...opts });
  return store;
}

const ids = (s: RequestStore) => [...s.all()].map((r) => r.metadata?.name);

describe('disk full: a write that does not fully reach the disk', () => {
  for (const fault of ['short-then-enospc', 'zero', 'enospc', 'eio-on-sync'] as const) {
    it(`${fault}: is refused with Unknown, cut off, and later writes survive replay`, async () => {
      const s = await reopen();
      await s.create(request('a'));
      const good = (await stat(path)).size;
      faults.push(fault);
      const failed = s.create(request('b'));
      await expect(failed).rejects.toMatchObject({ code: 2 });
      await expect(failed).rejects.toThrow(
        fault === 'eio-on-sync'
          ? /^the server could not store the change: EIO/
          : /^the server could not store the change \(disk full\?\)/,
      );
      expect(s.get('b')).toBeUndefined();
      // Consistent again: the partial record is gone before anything else is appended.
      expect((await stat(path)).size).toBe(good);
      await s.create(request('c'));
      const damages: Damage[] = [];
      const again = await reopen({ onDamage: (d) => damages.push(d) });
      expect(ids(again)).toEqual(['a', 'c']);
      expect(damages).toEqual([]);
    });
  }

  it('a write that goes through in two parts is acknowledged once, whole', async () => {
    const s = await reopen();
    faults.push('short-then-rest');
    await s.create(request('a'));
    await s.create(request('b'));
    expect(ids(await reopen())).toEqual(['a', 'b']);
  });
});

describe('disk full: the rule and lock stores answer as the request store does', () => {
  it('a rule write that hits ENOSPC: Unknown (not Unavailable), nothing changed, later writes kept', async () => {
    const rulesPath = join(dir, 'rules.log');
    const rules = await RuleStore.open(rulesPath, { openAppend: faultyFile });
    const rule = (name: string) =>
      AccessMonitoringRule.fromPartial({ kind: 'access_monitoring_rule', version: 'v1', metadata: { name } });
    await rules.mutate('a', () => rule('a'));
    faults.push('enospc');
    const failed = rules.mutate('b', () => rule('b'));
    await expect(failed).rejects.toMatchObject({ code: 2 });
    await expect(failed).rejects.toThrow(/^the server could not store the change \(disk full\?\)/);
    expect(rules.get('b')).toBeUndefined();
    await rules.mutate('c', () => rule('c'));
    await rules.close();
    const again = await RuleStore.open(rulesPath);
    expect(again.list().map((r) => r.metadata?.name)).toEqual(['a', 'c']);
    await again.close();
  });

  it('a lock write that hits ENOSPC: Unknown, the same message', async () => {
    const locks = await LockStore.open(join(dir, 'locks.log'), { openAppend: faultyFile });
    faults.push('enospc');
    const failed = locks.upsert(
      LockV2.fromPartial({ metadata: { name: 'l' }, spec: { target: { user: 'mallory' } } }),
    );
    await expect(failed).rejects.toMatchObject({ code: 2 });
    await expect(failed).rejects.toThrow(/^the server could not store the change \(disk full\?\)/);
    expect(locks.get('l', new Date())).toBeUndefined();
    await locks.close();
  });
});

describe('corruption: replay resynchronises and copies the rest aside', () => {
  async function logOf(n: number): Promise<{ offsets: number[]; data: Buffer }> {
    const s = await reopen();
    const offsets: number[] = [];
    for (let i = 0; i < n; i++) {
      offsets.push((await stat(path)).size);
      await s.create(request(`r${i}`));
    }
    await s.close();
    store = undefined;
    return { offsets, data: await readFile(path) };
  }

  it('one flipped bit in record 0 loses record 0 only, and its bytes are copied aside', async () => {
    const { offsets, data } = await logOf(5);
    const damaged = Buffer.from(data);
    damaged[offsets[0] + 12] ^= 0x10;
    await writeFile(path, damaged);
    const damages: Damage[] = [];
    const s = await reopen({ onDamage: (d) => damages.push(d) });
    expect(ids(s)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(damages).toHaveLength(1);
    expect(damages[0]).toMatchObject({ recovered: 4, bytes: offsets[1] - offsets[0] });
    expect(await readFile(damages[0].copiedTo)).toEqual(damaged.subarray(offsets[0], offsets[1]));
    // The log was rewritten without the damage: the next open finds nothing to report.
    await s.create(request('r5'));
    const later: Damage[] = [];
    expect(ids(await reopen({ onDamage: (d) => later.push(d) }))).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(later).toEqual([]);
  });

  it('a length running past the end in the middle is not a torn tail: later records are kept', async () => {
    const { offsets, data } = await logOf(4);
    const damaged = Buffer.from(data);
    damaged.writeUInt32BE(data.length, offsets[1]);
    await writeFile(path, damaged);
    const damages: Damage[] = [];
    expect(ids(await reopen({ onDamage: (d) => damages.push(d) }))).toEqual(['r0', 'r2', 'r3']);
    expect(damages[0]).toMatchObject({ recovered: 3, ranges: [{ start: offsets[1], end: offsets[2] }] });
  });

  it('a zeroed stretch across two records keeps those around it', async () => {
    const { offsets, data } = await logOf(6);
    const damaged = Buffer.from(data);
    damaged.fill(0, offsets[2] + 5, offsets[3] + 7);
    await writeFile(path, damaged);
    const damages: Damage[] = [];
    expect(ids(await reopen({ onDamage: (d) => damages.push(d) }))).toEqual(['r0', 'r1', 'r4', 'r5']);
    expect(damages[0].bytes).toBe(offsets[4] - offsets[2]);
  });

  it('a torn final record is cut and copied aside', async () => {
    const { offsets, data } = await logOf(3);
    await writeFile(path, data.subarray(0, data.length - 3));
    const damages: Damage[] = [];
    expect(ids(await reopen({ onDamage: (d) => damages.push(d) }))).toEqual(['r0', 'r1']);
    expect(await readFile(damages[0].copiedTo)).toEqual(data.subarray(offsets[2], data.length - 3));
    expect((await readFile(path)).length).toBe(offsets[2]);
  });

  it('a log holding only its magic and garbage keeps nothing but loses nothing either', async () => {
    await writeFile(path, MAGIC);
    await appendFile(path, Buffer.from('garbage'));
    const damages: Damage[] = [];
    expect((await reopen({ onDamage: (d) => damages.push(d) })).count).toBe(0);
    expect((await readFile(damages[0].copiedTo)).toString()).toBe('garbage');
  });
});
