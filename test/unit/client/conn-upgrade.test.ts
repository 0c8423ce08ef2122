import { describe, expect, it } from 'vitest';
import { connUpgradeRequiredByEnv } from '../../../src/client/conn-upgrade-env.js';
import { UsageError } from '../../../src/model/errors.js';

const ADDR = 'proxy.example.com:443';

describe('TELEPORT_TLS_ROUTING_CONN_UPGRADE (isALPNConnUpgradeRequiredByEnv)', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['true', true],
    ['YES', true],
    ['0', false],
    ['off', false],
    [`${ADDR}=yes,other.example.com:443=no`, true],
    [`other.example.com:443=yes`, false],
    [`1;other.example.com:443=no`, true],
    [`0,${ADDR}=1`, true],
    [`${ADDR}=no,1`, false],
    [`${ADDR}=y,${ADDR}=n`, true],
    ['true,false', false],
    [',,true,', true],
  ])('%j → %j', (value, expected) => {
    expect(connUpgradeRequiredByEnv(value, ADDR)).toBe(expected);
  });

  it.each(['maybe', `${ADDR}=maybe`, '=true', 'true,sure'])(
    '%j is a usage error naming the bad part',
    (value) => {
      let err: unknown;
      try {
        connUpgradeRequiredByEnv(value, ADDR);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(
        /^invalid TELEPORT_TLS_ROUTING_CONN_UPGRADE ".*": ".*" (is not|names no|does not end)/,
      );
    },
  );
});
