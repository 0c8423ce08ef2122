import { describe, expect, test } from 'vitest';
import { newAccessRequest } from '../../../src/model/request.js';
import { escapeControls } from '../../../src/render/escape.js';
import { REQUEST_COLUMNS, requestDetail, requestRow } from '../../../src/render/request.js';
import { printTable } from '../../../src/render/table.js';
import { fakeIO } from '../../helpers/run-cli.js';

const OSC_TITLE = '\u001b]0;pwned\u0007';
/** Every character a terminal acts on: C0, DEL, C1, and the invisible bidi/zero-width formatters. */
const HOSTILE = [
  OSC_TITLE,
  '\u001b[2J\u001b[H',
  '\u009b31m',
  '\u009d0;x\u009c',
  'a\rb',
  'line1\nFAKE: row',
  'tab\there',
  '\u0000\u0008\u007f',
  'evil\u202egnp.exe',
  'zero\u200bwidth\u2066iso\u2069',
  '\u2028sep\ufeff',
];

/** No byte a terminal would interpret survives. */
function assertInert(text: string): void {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const inert =
      ch === '\n' ||
      !(
        c < 0x20 ||
        (c >= 0x7f && c <= 0x9f) ||
        (c >= 0x200b && c <= 0x200f) ||
        (c >= 0x2028 && c <= 0x202e) ||
        (c >= 0x2060 && c <= 0x206f) ||
        c === 0xfeff
      );
    expect(inert, `U+${c.toString(16)} in ${JSON.stringify(text)}`).toBe(true);
  }
}

describe('escaping server and user strings in text output', () => {
  test('controls become visible escapes; other text is unchanged', () => {
    expect(escapeControls(OSC_TITLE)).toBe('\\x1b]0;pwned\\x07');
    expect(escapeControls('\u009b31m')).toBe('\\x9b31m');
    expect(escapeControls('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(escapeControls('evil\u202egnp')).toBe('evil\\u202egnp');
    expect(escapeControls('Zoë — 日本 ✓ "quoted" \\ back')).toBe('Zoë — 日本 ✓ "quoted" \\ back');
    for (const s of HOSTILE) assertInert(escapeControls(s));
  });

  const hostile = newAccessRequest({
    id: '0193c1e2-aaaa-7bbb-8ccc-000000000001',
    user: `mallory${OSC_TITLE}`,
    roles: [`dba${HOSTILE[2]}`],
    resources: [`/local/node/x${HOSTILE[1]}`],
    state: 'DENIED',
    reason: HOSTILE.join(''),
    resolve_reason: HOSTILE.join(''),
    suggested_reviewers: HOSTILE,
    created: '2026-11-21T10:00:00Z',
    thresholds: [{ name: HOSTILE[3], approve: 1, deny: 1 }],
    reviews: [
      {
        author: HOSTILE[4],
        state: 'DENIED',
        reason: HOSTILE[5],
        created: '2026-11-21T10:01:00Z',
        roles: [HOSTILE[6]],
      },
    ],
    annotations: { [HOSTILE[7]]: [HOSTILE[8]] },
    system_annotations: { k: [HOSTILE[9], HOSTILE[10]] },
  });
  const now = new Date('2026-11-21T10:30:00Z');

  test('show: every field of a hostile request is inert and no value adds a line', () => {
    const out = requestDetail(hostile, now);
    assertInert(out);
    expect(out).toContain('\\x1b]0;pwned\\x07');
    expect(out).not.toMatch(/^FAKE/m);
    const plain = requestDetail(
      { ...hostile, suggested_reviewers: ['bob'], reason: 'r', resolve_reason: 'r' },
      now,
    );
    expect(out.split('\n')).toHaveLength(plain.split('\n').length);
  });

  test.each([false, true])('ls rows are inert (TTY %s)', async (tty) => {
    const io = fakeIO({ isTTY: tty, env: { NO_COLOR: '1' } });
    await printTable(io, REQUEST_COLUMNS, [requestRow(hostile, now, tty).cells]);
    assertInert(io.out.text);
    expect(io.out.text).toContain('mallory\\x1b]0;pwned\\x07');
  });
});
