/**
 * User impersonation as lib/services/role.go: RoleSet.CheckImpersonate decides it: conditions
 * count only when they name both users and roles; deny matches the user OR any of its roles;
 * allow needs one condition matching the user AND all its roles.
 */
import { describe, expect, it } from 'vitest';
import { caller, yamlPolicy } from './fixtures.js';

const role = (name: string, spec: string) => `kind: role\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`;
const user = (name: string, roles: string[]) =>
  `kind: user\nmetadata: {name: ${name}}\nspec: {roles: [${roles.join(', ')}]}\n---\n`;

const SEED = [
  role('viewer', '{}'),
  role('ops', '{}'),
  role('only-users', "{allow: {impersonate: {users: ['*']}}}"),
  role('only-roles', "{allow: {impersonate: {roles: ['*']}}}"),
  role('both', '{allow: {impersonate: {users: [alice, bob], roles: [viewer]}}}'),
  role('wild', "{allow: {impersonate: {users: ['*'], roles: ['*']}}}"),
  role('deny-user', '{deny: {impersonate: {users: [alice], roles: [no-such-role]}}}'),
  role('deny-role', '{deny: {impersonate: {users: [no-such-user], roles: [ops]}}}'),
  role('deny-user-only', '{deny: {impersonate: {users: [alice]}}}'),
  user('alice', ['viewer']),
  user('norole', []),
  user('bob', ['viewer']),
  user('carol', ['ops']),
  user('dave', ['viewer', 'ops']),
  user('u-only-users', ['only-users']),
  user('u-only-roles', ['only-roles']),
  user('u-both', ['both']),
  user('u-wild', ['wild']),
  user('u-deny-user', ['wild', 'deny-user']),
  user('u-deny-role', ['wild', 'deny-role']),
  user('u-deny-user-only', ['wild', 'deny-user-only']),
].join('');

const p = yamlPolicy(SEED);
const can = (who: string, target: string) => p.canImpersonate(caller(p, who), target);

describe('user impersonation (RoleSet.CheckImpersonate)', () => {
  it('an allow naming only users grants nothing', () => {
    expect([can('u-only-users', 'alice'), can('u-only-users', 'norole')]).toEqual([false, false]);
  });

  it('an allow naming only roles grants no user impersonation', () => {
    expect(can('u-only-roles', 'alice')).toBe(false);
  });

  it('an allow naming both needs the user and every one of its roles to match', () => {
    expect([
      can('u-both', 'alice'),
      can('u-both', 'bob'),
      can('u-both', 'carol'),
      can('u-both', 'dave'),
    ]).toEqual([true, true, false, false]);
  });

  it('wildcards in both lists allow anyone', () => {
    expect([can('u-wild', 'alice'), can('u-wild', 'carol'), can('u-wild', 'dave')]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('a deny matching the user refuses even when its roles do not match', () => {
    expect([can('u-deny-user', 'alice'), can('u-deny-user', 'bob')]).toEqual([false, true]);
  });

  it('a deny matching any role refuses even when its users do not match', () => {
    expect([can('u-deny-role', 'carol'), can('u-deny-role', 'dave'), can('u-deny-role', 'alice')]).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('a deny naming only users does not take part', () => {
    expect(can('u-deny-user-only', 'alice')).toBe(true);
  });
});
