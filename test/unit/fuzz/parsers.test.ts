/**
 * Fuzz of every parser that reads user input: durations, times, request and resource IDs,
 * addresses, label/annotation lists and predicates, plus the escaping of what is printed.
 * Random text and text built from each grammar's own pieces (to get past the first
 * character); over 100,000 inputs in all. A parser either returns or throws its documented
 * error (a UsageError, exit 2, or a PredicateError, InvalidArgument); never anything else,
 * never a hang (the per-test timeout bounds it).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseHostPort } from '../../../src/model/address.js';
import { parseDuration } from '../../../src/model/duration.js';
import { UsageError } from '../../../src/model/errors.js';
import { parseKeyValues, parseLabels, splitList } from '../../../src/model/kv.js';
import { PredicateError } from '../../../src/model/predicate/parse.js';
import { isRequestId, parseRequestId } from '../../../src/model/request-id.js';
import { formatResourceId, parseResourceId } from '../../../src/model/resource-id.js';
import { parseRfc3339 } from '../../../src/model/time.js';
import { escapeControls } from '../../../src/render/escape.js';
import { compileResourcePredicate } from '../../../src/server/resource-predicate.js';
import type { Resource } from '../../../src/server/types.js';

const RUNS = 7_000;
const SEED = 42;

/** Fails the property (cheaper than expect() in a loop of thousands). */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Runs `f`; passes when it returns or throws an instance of `allowed` with a one-line message. */
function onlyDocumentedErrors(allowed: new (...a: never[]) => Error, f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof allowed)) throw err;
    check(err.message !== '' && !err.message.includes('\n'), `not one line: ${JSON.stringify(err.message)}`);
  }
}

/** Any text, including controls, astral characters and lone surrogates. */
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
/** Text made of a grammar's pieces, so parsing goes deep. */
const pieces = (alphabet: string[], maxLength = 12) =>
  fc.array(fc.constantFrom(...alphabet), { maxLength }).map((xs) => xs.join(''));

type Case = [string, fc.Arbitrary<string>, (s: string) => unknown, new (...a: never[]) => Error];

const cases: Case[] = [
  ['durations (any text)', anyText, (s) => parseDuration(s, 'request-ttl'), UsageError],
  [
    'durations (grammar)',
    pieces([
      '0',
      '1',
      '9',
      '.',
      '-',
      '+',
      'h',
      'm',
      's',
      'ms',
      'us',
      'µs',
      'ns',
      'd',
      'w',
      '99999999999',
      ' ',
    ]),
    (s) => {
      const ms = parseDuration(s, 'timeout');
      check(Number.isFinite(ms) && ms >= 0, `duration ${ms}`);
    },
    UsageError,
  ],
  ['times (any text)', anyText, (s) => parseRfc3339(s, 'assume-start-time'), UsageError],
  [
    'times (grammar)',
    pieces([
      '2026',
      '0000',
      '9999',
      '-',
      '02',
      '30',
      '13',
      'T',
      't',
      ':',
      '00',
      '59',
      '60',
      '.',
      '123456789',
      'Z',
      '+',
      '23:59',
    ]),
    (s) => {
      const d = parseRfc3339(s, 'assume-start-time');
      check(!Number.isNaN(d.getTime()), 'invalid date returned');
    },
    UsageError,
  ],
  [
    'request IDs',
    fc.oneof(anyText, fc.uuid(), pieces(['0', 'f', 'F', 'g', '-', ',', ' '], 40)),
    (s) => {
      check(isRequestId(parseRequestId(s)), 'not a request ID');
    },
    UsageError,
  ],
  ['resource IDs (any text)', anyText, (s) => parseResourceId(s), UsageError],
  [
    'resource IDs (grammar; parse and format are inverses)',
    pieces(
      [
        '/',
        'local',
        'node',
        'db',
        'kube:ns:',
        'kube:cw:',
        'pods',
        'deployments.apps',
        '.',
        'x',
        'ns',
        ' ',
        '%',
        '\u001b',
      ],
      10,
    ),
    (s) => {
      const id = parseResourceId(s);
      check(
        formatResourceId(parseResourceId(formatResourceId(id))) === formatResourceId(id),
        'not a round trip',
      );
    },
    UsageError,
  ],
  [
    'addresses',
    fc.oneof(anyText, pieces(['[', ']', ':', '::1', 'host', '.', '3025', '99999', 'https://', '/', ' '])),
    (s) => parseHostPort(s, 3025, '--auth-server'),
    UsageError,
  ],
  [
    'label lists',
    fc.oneof(anyText, pieces(['k', 'v', '=', ',', ' ', '__proto__', 'constructor', '=='])),
    (s) => {
      check(Object.getPrototypeOf(parseLabels(s, 'labels')) === Object.prototype, 'prototype changed');
      splitList(s);
    },
    UsageError,
  ],
  [
    'annotation lists',
    fc.oneof(anyText, pieces(['k', 'v', '=', ',', ' ', '__proto__', 'toString'])),
    (s) => {
      for (const values of Object.values(parseKeyValues(s, 'annotations')))
        check(Array.isArray(values), 'not a list');
    },
    UsageError,
  ],
];

const web: Resource = { kind: 'node', name: 'n1', hostname: 'web-1', labels: { env: 'dev' } };
const TOKENS = [
  'labels',
  '.',
  'env',
  '["env"]',
  'name',
  'hostname',
  '==',
  '!=',
  '&&',
  '||',
  '!',
  '(',
  ')',
  ',',
  '"dev"',
  '"',
  '`x`',
  "'x'",
  'search(',
  'hasPrefix(',
  'exists(',
  'true',
  'false',
  ' ',
  '\\',
  '1',
  '[',
  ']',
];

describe('parser fuzz: only documented errors, no crash, no hang', () => {
  test.each(cases)('%s', (_name, arb, parse, allowed) => {
    fc.assert(
      fc.property(arb, (s) => onlyDocumentedErrors(allowed, () => parse(s))),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('predicates: random text, token soup and deep nesting, compiled and evaluated', () => {
    const arb = fc.oneof(
      anyText,
      pieces(TOKENS, 40),
      fc.nat(400).map((n) => `${'('.repeat(n)}true${')'.repeat(n)}`),
    );
    fc.assert(
      fc.property(arb, (s) =>
        onlyDocumentedErrors(PredicateError, () => {
          check(typeof compileResourcePredicate(s)(web) === 'boolean', 'not a boolean');
        }),
      ),
      { numRuns: 20_000, seed: SEED },
    );
  });

  test('escaping: the result never holds a character a terminal acts on', () => {
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const out = escapeControls(s);
        check(!unsafe.test(out), 'unsafe character left');
        check(unsafe.test(s) || out === s, 'safe text changed');
      }),
      { numRuns: 12_000, seed: SEED },
    );
  });

  test('over 100,000 inputs in all', () => {
    expect(cases.length * RUNS + 20_000 + 12_000).toBeGreaterThanOrEqual(100_000);
  });
});
