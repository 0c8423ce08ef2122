import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const manDir = join(import.meta.dirname, '..', '..', '..', 'man');
const pages = readdirSync(manDir).filter((f) => f.endsWith('.1'));
const hasGroff = spawnSync('groff', ['--version']).status === 0;
const hasMan = spawnSync('man', ['--version']).status === 0;

describe('man pages', () => {
  it('cover the root, every command group and every command', () => {
    expect(pages).toEqual(
      expect.arrayContaining([
        'access.1',
        'access-request.1',
        'access-request-create.1',
        'access-sign-helper.1',
        'access-server-start.1',
      ]),
    );
  });

  it('carry the help topics on access(1)', () => {
    const root = readFileSync(join(manDir, 'access.1'), 'utf8');
    for (const section of ['ENVIRONMENT', 'EXIT CODES', 'OUTPUT FORMATS', 'RESOURCE IDS']) {
      expect(root).toMatch(new RegExp(`^\\.SH ${section}`, 'm'));
    }
  });

  it.runIf(hasGroff).each(pages)('%s renders without groff warnings', (page) => {
    const res = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(manDir, page)], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stderr).toBe('');
  });

  it.runIf(hasMan)('man -l renders access(1)', () => {
    const res = spawnSync('man', ['-l', join(manDir, 'access.1')], {
      encoding: 'utf8',
      env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' },
    });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('access request create');
    expect(res.stderr).toBe('');
  });
});
