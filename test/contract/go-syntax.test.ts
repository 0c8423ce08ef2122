/**
 * Rule conditions are read as Go's go/parser.ParseExpr reads them (Teleport parses them with
 * github.com/gravitational/predicate over go/parser): the same inputs parse, and a syntax error
 * has Go's first message and position. Inputs are generated from condition-like tokens with a
 * fixed seed, plus the cases in test/unit/model/rule-condition.test.ts. Composite literals and
 * function literals (`T{…}`, `func(…){…}`) are left out: we skip their insides where Go
 * parses them, so an error inside one can be reported elsewhere (predicate refuses them all).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGoExpression } from '../../src/model/expression/go-syntax.js';
import { buildGo, runGo } from './helpers.js';

const TOKENS = [
  'access_request.spec.roles',
  'user.traits["team"]',
  'a',
  'b.c',
  '"s"',
  '`r`',
  '"\\q"',
  '"\\x4"',
  "'c'",
  "'cd'",
  '1',
  '0x1F',
  '1.5',
  '1e3',
  '2i',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '...',
  ':',
  ';',
  '=',
  ':=',
  '&&',
  '||',
  '!',
  '==',
  '!=',
  '<',
  '>=',
  '+',
  '-',
  '*',
  '&^',
  '<-',
  'contains(',
  '.contains(',
  'set(',
  '\n',
  ' ',
  '\t',
  '/* c */',
  '/* \n */',
  '// c\n',
  '@',
  '?',
  'é',
  'if',
  'type',
  'x.(int)',
  'x[1:2]',
];

function generate(count: number): string[] {
  let seed = 20_251_208;
  const next = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    let s = '';
    const n = 1 + next(8);
    for (let j = 0; j < n; j += 1) s += TOKENS[next(TOKENS.length)];
    out.push(s);
  }
  return out;
}

describe("go/parser agrees with our reading of a condition's syntax", () => {
  let dir: string;
  beforeAll(async () => {
    await buildGo('go-parse');
    dir = await mkdtemp(join(tmpdir(), 'access-go-parse-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('on 4,000 generated inputs: the same ones parse, the others fail with the same first error', async () => {
    const inputs = generate(4_000);
    const file = join(dir, 'inputs.json');
    await writeFile(file, JSON.stringify(inputs));
    const { stdout, stderr, code } = await runGo('go-parse', [file]);
    expect(code, stderr).toBe(0);
    const goErrors = JSON.parse(stdout) as string[];
    const differences = inputs
      .map((input, i) => {
        let ours = '';
        try {
          parseGoExpression(input);
        } catch (err) {
          ours = (err as Error).message;
        }
        // Go adds "(and N more errors)"; we stop at the first.
        const theirs = goErrors[i].replace(/ \(and \d+ more errors\)$/, '');
        return ours === theirs ? undefined : { input, go: theirs, ours };
      })
      .filter((d) => d !== undefined);
    expect(differences.slice(0, 5)).toEqual([]);
  });
});
