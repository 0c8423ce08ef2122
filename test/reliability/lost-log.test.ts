/**
 * Issue 22 finding 3: a lost log is never taken for an empty one. cluster.json records the
 * data directory's ID and how long each log was at least; a log that is missing, shorter,
 * not a regular file or another directory's is refused at start with one line naming the file
 * and how to recover, and nothing is changed. Records appended from another directory's log
 * are never replayed as this one's.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  appendFile,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AccessMonitoringRule,
  ListAccessMonitoringRulesResponse,
} from '../../src/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { ListAccessRequestsRequest } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { AccessRequestV3, LockV2 } from '../../src/gen/teleport/legacy/types/types.js';
import { startServer } from '../../src/server/index.js';
import * as frame from '../../src/server/storage/log-frame.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';
import { runCli } from '../helpers/run-cli.js';

let tmp: string;
let data: string;
let log: string;
let clusterJson: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'access-lost-log-'));
  data = join(tmp, 'data');
  log = join(data, 'requests.log');
  clusterJson = join(data, 'cluster.json');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Starts a server on `dir` and calls `fn` as alice, then stops it. */
async function asAlice<T>(
  dir: string,
  fn: (alice: TestClient) => Promise<T>,
  warn?: (l: string) => void,
): Promise<T> {
  const s = await startServer({ dataDir: dir, listen: '127.0.0.1:0', warn });
  const alice = await connectIdentity(s.addr, s.identityPath('alice'));
  try {
    return await fn(alice);
  } finally {
    alice.close();
    await s.stop();
  }
}

/** Starts a server on `dir`, creates `n` requests as alice, stops; returns their IDs. */
function withRequests(dir: string, n: number): Promise<string[]> {
  return asAlice(dir, async (alice) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const made = await alice.call(
        'createAccessRequestV2',
        AccessRequestV3.fromPartial({
          metadata: { name: randomUUID() },
          spec: { user: 'alice', roles: ['dba'], requestReason: `r${i}` },
        }),
      );
      ids.push(made.metadata!.name);
    }
    return ids;
  });
}

async function listIds(alice: TestClient): Promise<string[]> {
  const page = await alice.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({}));
  return page.accessRequests.map((r) => r.metadata!.name).sort();
}

const start = () => runCli(['server', 'start', '--data-dir', data, '--listen', '127.0.0.1:0']);

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(entry.parentPath, entry.name);
    if (entry.isFile()) out[p] = (await readFile(p)).toString('base64');
    else if (!entry.isDirectory()) out[p] = entry.isFIFO() ? 'fifo' : 'special';
  }
  return out;
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return lines[0];
}

const RECOVER =
  /nothing was changed: restore it from a backup of the data directory, or, to start without what it held, move it away and remove "requests\.log" from "logs" in .*cluster\.json$/;

describe('a lost request log is refused at start, nothing changed', () => {
  it.each<[string, () => Promise<void>, RegExp]>([
    [
      'deleted',
      () => rm(log),
      /requests\.log is missing, but the data directory records a log of at least \d+ bytes/,
    ],
    ['truncated to 0 bytes', () => truncate(log, 0), /requests\.log is 0 bytes, shorter than the \d+ bytes/],
    [
      'truncated to 10 bytes',
      () => truncate(log, 10),
      /requests\.log is 10 bytes, shorter than the \d+ bytes/,
    ],
    [
      'cut short by a whole record',
      async () => truncate(log, (await stat(log)).size - 40),
      /requests\.log is \d+ bytes, shorter than the \d+ bytes the data directory records: records were lost/,
    ],
    [
      'a symlink to a missing volume',
      async () => {
        await rm(log);
        await symlink('/nonexistent-volume/requests.log', log);
      },
      /requests\.log is missing/,
    ],
    [
      'a directory',
      async () => {
        await rm(log);
        execFileSync('mkdir', [log]);
      },
      /requests\.log is a directory; nothing was changed/,
    ],
    [
      'a FIFO (refused at once, never blocking)',
      async () => {
        await rm(log);
        execFileSync('mkfifo', [log]);
      },
      /requests\.log is a FIFO, not a regular file/,
    ],
  ])('%s', async (_name, damage, line) => {
    await withRequests(data, 3);
    await damage();
    const before = await snapshot(data);
    const r = await start();
    expect(r.code).toBe(1);
    const only = oneLine(r.stderr);
    expect(only).toMatch(line);
    expect(only).toMatch(RECOVER);
    expect(await snapshot(data)).toEqual(before);
  });

  it("another data directory's log is refused, naming both IDs", async () => {
    const other = join(tmp, 'other');
    await withRequests(other, 2);
    await withRequests(data, 1);
    // As long as this one's, so only its owner can tell.
    const theirs = await readFile(join(other, 'requests.log'));
    await writeFile(log, theirs);
    const before = await snapshot(data);
    const r = await start();
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /requests\.log belongs to another data directory \(ID [0-9a-f]{16}, this one's is [0-9a-f]{16}\); nothing was changed/,
    );
    expect(await snapshot(data)).toEqual(before);
  });

  it("records appended from another data directory's log are set aside, never replayed", async () => {
    const other = join(tmp, 'other');
    const foreignIds = await withRequests(other, 2);
    const mine = await withRequests(data, 1);
    const theirs = await readFile(join(other, 'requests.log'));
    // Without its header, so every appended byte is an intact record.
    await appendFile(log, theirs.subarray(19));
    const warnings: string[] = [];
    expect(await asAlice(data, listIds, (l) => warnings.push(l))).toEqual(mine);
    expect(foreignIds.some((id) => mine.includes(id))).toBe(false);
    expect(warnings.join('\n')).toMatch(
      /2 records of another data directory's log, never replayed here\), copied to .*requests\.log\.damaged-\d+/,
    );
  });

  it('a new data directory records its log at first start', async () => {
    await withRequests(data, 0);
    const info = JSON.parse(await readFile(clusterJson, 'utf8'));
    expect(info.id).toMatch(/^[0-9a-f]{16}$/);
    expect(info.logs['requests.log']).toBe((await stat(log)).size);
  });
});

describe('a data directory from before logs were recorded', () => {
  it('keeps its first-format log, rewrites it with the new ID and records it', async () => {
    const ids = await withRequests(data, 2);
    const info = JSON.parse(await readFile(clusterJson, 'utf8'));
    await writeFile(clusterJson, JSON.stringify({ cluster: info.cluster, created: info.created }));
    // Rules and locks were whole-set files then (converted in their own test).
    await rm(join(data, 'locks.log'));
    await rm(join(data, 'access_monitoring_rules.log'));
    // The same requests as the first format wrote them: no header ID, none in the records.
    const v2 = await readFile(log);
    const frames = frame.scanFrames(v2, frame.HEADER_V2_BYTES).frames;
    const v1 = Buffer.concat([
      frame.MAGIC,
      ...frames.map((f) => frame.encodeFrame(f.op, f.body.subarray(frame.ID_BYTES))),
    ]);
    await writeFile(log, v1);
    expect(await asAlice(data, listIds)).toEqual([...ids].sort());
    const after = JSON.parse(await readFile(clusterJson, 'utf8'));
    expect(after.id).toMatch(/^[0-9a-f]{16}$/);
    expect(after.logs['requests.log']).toBe((await stat(log)).size);
    expect((await readFile(log)).subarray(0, frame.HEADER_V2_BYTES)).toEqual(
      Buffer.concat([frame.MAGIC_V2, Buffer.from(after.id, 'hex')]),
    );
  });
});

describe('rules and locks append to logs of their own', () => {
  it("an earlier version's locks.json and rule file are converted to logs, then removed", async () => {
    await withRequests(data, 0);
    await rm(join(data, 'locks.log'));
    await rm(join(data, 'access_monitoring_rules.log'));
    const info = JSON.parse(await readFile(clusterJson, 'utf8'));
    delete info.logs['locks.log'];
    delete info.logs['access_monitoring_rules.log'];
    await writeFile(clusterJson, JSON.stringify(info));
    const lock = LockV2.fromPartial({
      kind: 'lock',
      version: 'v2',
      metadata: { name: 'old-lock', namespace: 'default' },
      spec: { target: { user: 'mallory' }, message: 'kept' },
    });
    await writeFile(
      join(data, 'locks.json'),
      JSON.stringify({ locks: [Buffer.from(LockV2.encode(lock).finish()).toString('base64')] }),
    );
    const rule = AccessMonitoringRule.fromPartial({
      kind: 'access_monitoring_rule',
      version: 'v1',
      metadata: { name: 'old-rule', revision: '7' },
      spec: {
        subjects: ['access_request'],
        condition: 'true',
        notification: { name: 'n', recipients: ['x'] },
      },
    });
    await writeFile(
      join(data, 'access_monitoring_rules.pb'),
      ListAccessMonitoringRulesResponse.encode({ rules: [rule], nextPageToken: '' }).finish(),
    );
    const s = await startServer({ dataDir: data, listen: '127.0.0.1:0' });
    const admin = await connectIdentity(s.addr, s.identityPath('admin'));
    try {
      const locks = await admin.call('getLocks', { targets: [], inForceOnly: false });
      expect(locks.locks.map((l) => l.spec?.message)).toEqual(['kept']);
      const rules = await new Promise<ListAccessMonitoringRulesResponse>((resolve, reject) =>
        (
          admin.amr as unknown as Record<
            string,
            (q: unknown, cb: (e: Error | null, r: ListAccessMonitoringRulesResponse) => void) => void
          >
        ).listAccessMonitoringRules({ pageSize: 0, pageToken: '' }, (e, r) => (e ? reject(e) : resolve(r))),
      );
      expect(rules.rules.map((r) => r.metadata?.name)).toEqual(['old-rule']);
    } finally {
      admin.close();
      await s.stop();
    }
    const files = await readdir(data);
    expect(files).not.toContain('locks.json');
    expect(files).not.toContain('access_monitoring_rules.pb');
    const after = JSON.parse(await readFile(clusterJson, 'utf8'));
    expect(after.logs['locks.log']).toBe((await stat(join(data, 'locks.log'))).size);
  });

  it('a lost lock log is refused like a lost request log', async () => {
    await withRequests(data, 0);
    await rm(join(data, 'locks.log'));
    const r = await start();
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/locks\.log is missing, but the data directory records a log/);
  });
});

describe('start-up clears what a killed compaction left', () => {
  it('removes a stale .requests.log.tmp-<pid>', async () => {
    await withRequests(data, 1);
    const stale = join(data, '.requests.log.tmp-999999');
    await writeFile(stale, 'half a compaction');
    const s = await startServer({ dataDir: data, listen: '127.0.0.1:0' });
    await s.stop();
    expect(await readdir(data)).not.toContain('.requests.log.tmp-999999');
  });
});
