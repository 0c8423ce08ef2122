import { expect } from 'vitest';
import { UsageError } from '../../../src/model/errors.js';

/** The UsageError `fn` throws; fails the test when it throws something else or nothing. */
export function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

/** The message of the UsageError `fn` throws. */
export function usageMessage(fn: () => unknown): string {
  return usageError(fn).message;
}
