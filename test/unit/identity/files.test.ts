import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFilesExclusive } from '../../../src/identity/files.js';
import { caught, tempDir } from './fixtures.js';

describe('files', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(() => tmp.cleanup());

  const mode = async (p: string) => (await stat(p)).mode & 0o777;

  it('writeFileAtomic writes mode 0600 by default and leaves no temp file', async () => {
    const target = join(tmp.dir, 'id.pem');
    await writeFileAtomic(target, 'secret\n');
    expect(await readFile(target, 'utf8')).toBe('secret\n');
    expect(await mode(target)).toBe(0o600);
    expect(await readdir(tmp.dir)).toEqual(['id.pem']);
  });

  it('writeFileAtomic replaces an existing file and tightens its mode', async () => {
    const target = join(tmp.dir, 'id.pem');
    await writeFile(target, 'old contents that are longer', { mode: 0o644 });
    await writeFileAtomic(target, Buffer.from('new'));
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await mode(target)).toBe(0o600);
    await writeFileAtomic(target, 'public', 0o644);
    expect(await mode(target)).toBe(0o644);
  });

  it('writeFileAtomic reports a missing directory as one line', async () => {
    const target = join(tmp.dir, 'missing', 'id.pem');
    expect(await caught(() => writeFileAtomic(target, 'x'))).toEqual({
      kind: 'failure',
      message: `cannot write "${target}": no such directory`,
    });
  });

  it('writeFilesExclusive writes all files with their modes', async () => {
    const files = [
      { path: join(tmp.dir, 'auth.crt'), data: 'crt', mode: 0o644 },
      { path: join(tmp.dir, 'auth.key'), data: 'key' },
      { path: join(tmp.dir, 'auth.cas'), data: 'cas', mode: 0o644 },
    ];
    await writeFilesExclusive(files, { overwrite: false });
    expect((await readdir(tmp.dir)).sort()).toEqual(['auth.cas', 'auth.crt', 'auth.key']);
    expect(await mode(files[1].path)).toBe(0o600);
    expect(await mode(files[0].path)).toBe(0o644);
    expect(await readFile(files[2].path, 'utf8')).toBe('cas');
  });

  it('writeFilesExclusive refuses when any target exists and writes nothing', async () => {
    await writeFile(join(tmp.dir, 'auth.key'), 'keep me');
    const files = [
      { path: join(tmp.dir, 'auth.crt'), data: 'crt' },
      { path: join(tmp.dir, 'auth.key'), data: 'key' },
    ];
    expect(await caught(() => writeFilesExclusive(files, { overwrite: false }))).toEqual({
      kind: 'usage',
      message: `refusing to overwrite "${join(tmp.dir, 'auth.key')}": pass --overwrite to replace it`,
    });
    expect(await readdir(tmp.dir)).toEqual(['auth.key']);
    expect(await readFile(join(tmp.dir, 'auth.key'), 'utf8')).toBe('keep me');

    await writeFilesExclusive(files, { overwrite: true });
    expect(await readFile(join(tmp.dir, 'auth.key'), 'utf8')).toBe('key');
    expect((await readdir(tmp.dir)).sort()).toEqual(['auth.crt', 'auth.key']);
  });

  it('writeFilesExclusive leaves nothing behind when a later file cannot be written', async () => {
    const files = [
      { path: join(tmp.dir, 'a.pem'), data: 'a' },
      { path: join(tmp.dir, 'no-such-dir', 'b.pem'), data: 'b' },
    ];
    expect((await caught(() => writeFilesExclusive(files, { overwrite: false }))).message).toBe(
      `cannot write "${files[1].path}": no such directory`,
    );
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it('writeFilesExclusive rolls back placed files when a rename fails', async () => {
    // A directory where a file should go makes that rename fail after the first file is placed.
    await mkdir(join(tmp.dir, 'b.pem'));
    await writeFile(join(tmp.dir, 'b.pem', 'inside'), 'x');
    const files = [
      { path: join(tmp.dir, 'a.pem'), data: 'a' },
      { path: join(tmp.dir, 'b.pem'), data: 'b' },
    ];
    const err = await caught(() => writeFilesExclusive(files, { overwrite: true }));
    expect(err.message).toMatch(/^cannot write ".*b\.pem": /);
    // a.pem was created by this call, so it is removed again; no temp file is left.
    expect(await readdir(tmp.dir)).toEqual(['b.pem']);
  });
});
