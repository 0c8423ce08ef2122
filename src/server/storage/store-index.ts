/**
 * The store's in-memory orderings of requests (by creation, state, user).
 */
import type { AccessRequestV3 } from '../../gen/teleport/legacy/types/types.js';
import { compareKeys, type PageKey } from '../grpc/paging.js';

export type Key = PageKey;

/**
 * IDs kept sorted by a key; inserts and removals are a binary search plus one splice, so a
 * listing walks the order without sorting or copying the requests.
 */
export class SortedIndex {
  readonly entries: { key: Key; id: string }[] = [];

  constructor(readonly keyOf: (req: AccessRequestV3) => Key) {}

  /** First position whose key is ≥ `key`. */
  lowerBound(key: Key): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.entries[mid].key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position whose key is > `key`. */
  upperBound(key: Key): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.entries[mid].key, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(req: AccessRequestV3): void {
    const key = this.keyOf(req);
    this.entries.splice(this.lowerBound(key), 0, { key, id: req.metadata?.name ?? '' });
  }

  remove(req: AccessRequestV3): void {
    const key = this.keyOf(req);
    const i = this.lowerBound(key);
    if (i < this.entries.length && compareKeys(this.entries[i].key, key) === 0) this.entries.splice(i, 1);
  }
}

export function idOf(req: AccessRequestV3): string {
  return req.metadata?.name ?? '';
}

export function millis(d: Date | undefined): number {
  return d ? d.getTime() : 0;
}
