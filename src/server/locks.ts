/**
 * Teleport locks in the embedded server: the rules that decide whether a lock is in force
 * against a caller. They are stored by `storage/lock-store.ts`.
 */

import type { LockTarget, LockV2 } from '../gen/teleport/legacy/types/types.js';
import { lockInForceMessage } from '../model/server-messages.js';
import type { LockStore } from './storage/lock-store.js';
import { accessDenied, type Caller, type ServerError } from './types.js';

/** The fields of a LockTarget in Teleport's proto order, with their proto (Go) names. */
const TARGET_FIELDS: readonly [keyof LockTarget, string][] = [
  ['user', 'User'],
  ['role', 'Role'],
  ['login', 'Login'],
  ['node', 'Node'],
  ['mfaDevice', 'MFADevice'],
  ['windowsDesktop', 'WindowsDesktop'],
  ['accessRequest', 'AccessRequest'],
  ['device', 'Device'],
  ['serverId', 'ServerID'],
];

/** api/types/lock.go, LockTarget.IsEmpty. */
export function isEmptyTarget(t: LockTarget | undefined): boolean {
  return !t || TARGET_FIELDS.every(([k]) => t[k] === '');
}

/**
 * api/types/lock.go, LockTarget.String: gogoproto's CompactTextString, e.g.
 * `AccessRequest:"0193…"`. Values are quoted as Go's text format does for the printable
 * ASCII every Teleport name uses; JSON's escaping covers the rest closely enough for a message.
 */
export function targetString(t: LockTarget): string {
  return TARGET_FIELDS.filter(([k]) => t[k] !== '')
    .map(([k, name]) => `${name}:${JSON.stringify(t[k])}`)
    .join(' ');
}

/**
 * api/types/lock.go, LockTarget.Match: every field set in `t` equals the lock's. Node and
 * ServerID match either way round, as Teleport keeps node locks working for whole servers.
 */
export function targetMatches(t: LockTarget, lock: LockV2): boolean {
  if (isEmptyTarget(t)) return false;
  const lt = lock.spec?.target;
  if (!lt) return false;
  const same = (k: keyof LockTarget) => t[k] === '' || lt[k] === t[k];
  const plain: (keyof LockTarget)[] = [
    'user',
    'role',
    'login',
    'mfaDevice',
    'windowsDesktop',
    'accessRequest',
    'device',
  ];
  if (!plain.every(same)) return false;
  if (t.node === '' && t.serverId === '') return true;
  return (lt.node !== '' && lt.node === t.node) || (lt.serverId !== '' && lt.serverId === t.serverId);
}

function target(partial: Partial<LockTarget>): LockTarget {
  return {
    user: '',
    role: '',
    login: '',
    node: '',
    mfaDevice: '',
    windowsDesktop: '',
    accessRequest: '',
    device: '',
    serverId: '',
    ...partial,
  };
}

/** A target naming one access request. */
export function accessRequestTarget(id: string): LockTarget {
  return target({ accessRequest: id });
}

/**
 * lib/services/lock.go, LockTargetsFromTLSIdentity: the user, each role (Groups) and each
 * active request of a certificate (no MFA device or trusted device in ours).
 */
export function lockTargetsOf(identity: {
  user: string;
  roles: string[];
  activeRequests: string[];
}): LockTarget[] {
  return [
    ...identity.roles.map((role) => target({ role })),
    target({ user: identity.user }),
    ...identity.activeRequests.map(accessRequestTarget),
  ];
}

/** api/types/lock.go, LockV2.IsInForce: no expiry, or `now` before it. */
export function isInForce(lock: LockV2, now: Date): boolean {
  const expires = lock.spec?.expires;
  return !expires || now.getTime() < expires.getTime();
}

/** Whether the backend would still hold the lock (metadata.expires is the item's TTL). */
export function isLive(lock: LockV2, now: Date): boolean {
  const t = lock.metadata?.expires?.getTime();
  return t === undefined || t <= -62135596800000 || now.getTime() < t;
}

/** lib/services/lock.go, LockInForceAccessDenied: AccessDenied naming the lock's target and message. */
export function lockInForceError(lock: LockV2): ServerError {
  return accessDenied(lockInForceMessage(targetString(lock.spec!.target!), lock.spec?.message ?? ''));
}

/** Refuses a caller whose certificate a lock in force targets (lib/authz/permissions.go, Authorize). */
export function checkCallerNotLocked(locks: LockStore, caller: Caller, now: Date): void {
  const lock = locks.inForce(now, lockTargetsOf(caller));
  if (lock) throw lockInForceError(lock);
}
