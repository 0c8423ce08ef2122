import {
  AccessRequestSort,
  type ListAccessRequestsRequest,
} from '../gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessRequestScope,
  type AccessRequestV3,
  RequestState,
} from '../gen/teleport/legacy/types/types.js';
import type { AccessRequest, RequestStateName } from '../model/request.js';
import { fieldsMatchKeywords } from '../model/search.js';
import type { Connection } from './connect.js';
import { isRpcError, RpcError } from './errors.js';
import { requestFromProto } from './map.js';
import type { CallOptions } from './rpc.js';

/** A page as every lister returns it: items and the key of the next page ('' at the end). */
export interface Page<T> {
  items: T[];
  nextKey: string;
}

/** What paging needs of a fetched page: how many items it held and the next key ('' at the end). */
export interface PageMark {
  count: number;
  nextKey: string;
}

/**
 * Walks a paginated list, yielding each page as `fetchPage` returned it. A page too large
 * for the gRPC message limit (RESOURCE_EXHAUSTED, Teleport's LimitExceeded) is asked again
 * at half the size, down to one item, as Teleport's listers do (api/client/client.go
 * `GetNodes`, api/utils/clientutils `ResourcesWithPageSize`: "Cut chunkSize in half if gRPC
 * max message size is exceeded"). `limit` caps the total; the last page asks for no more
 * than is still wanted.
 */
export async function* pageMarks<P extends PageMark>(
  fetchPage: (pageSize: number, startKey: string) => Promise<P>,
  pageSize: number,
  limit?: number,
): AsyncGenerator<P> {
  let size = pageSize;
  let startKey = '';
  let got = 0;
  for (;;) {
    const want = limit === undefined ? size : Math.min(size, limit - got);
    let page: P;
    try {
      page = await fetchPage(want, startKey);
    } catch (err) {
      if (!isRpcError(err, 'RESOURCE_EXHAUSTED')) throw err;
      size = Math.floor(want / 2);
      if (size === 0) {
        throw new RpcError(err.code, `one item is too large to retrieve: ${err.message}`, { cause: err });
      }
      continue;
    }
    got += page.count;
    yield page;
    startKey = page.nextKey;
    if (startKey === '' || (limit !== undefined && got >= limit)) return;
  }
}

/** {@link pageMarks} over pages of items: yields each page's items. */
export async function* paginate<T>(
  fetchPage: (pageSize: number, startKey: string) => Promise<Page<T>>,
  pageSize: number,
  limit?: number,
): AsyncGenerator<T[]> {
  const pages = pageMarks(
    async (size, startKey) => {
      const page = await fetchPage(size, startKey);
      return { ...page, count: page.items.length };
    },
    pageSize,
    limit,
  );
  for await (const page of pages) yield page.items;
}

/**
 * How a listing hands on its pages: `consume` gets each page synchronously, where the page
 * was decoded, and returns false to stop; `between`, when given, is awaited before the next
 * page is asked for (an output stream's backpressure). No page outlives its `consume` call,
 * so memory stays bounded by one page and a page's objects die young (see ReadOptions in
 * rpc.ts).
 */
export interface PageSink<T> {
  consume: (page: T[]) => boolean;
  between?: () => Promise<void>;
}

/**
 * Pages of access requests through ListAccessRequests, each handed to `sink` as it is read.
 * A server that predates it (Unimplemented) is read once with GetAccessRequestsV2 and the
 * list is scoped, sorted and cut here, as the official client's `ListAllAccessRequests`
 * falls back to `listAllAccessRequestsCompat` (api/client/client.go). Unlike that fallback,
 * sorting by user is supported, ties are broken by ID as ListAccessRequests does, and the
 * scope is applied here because older servers ignore it (AccessRequestFilter.Match in
 * api/types/access_request.go).
 */
export async function accessRequestPages(
  conn: Connection,
  req: Omit<ListAccessRequestsRequest, 'limit' | 'startKey'>,
  opts: { pageSize: number; limit?: number; call?: CallOptions },
  sink: PageSink<AccessRequestV3>,
): Promise<void> {
  let first = true;
  let stopped = false;
  try {
    const pages = pageMarks(
      (limit, startKey) =>
        conn.auth.listAccessRequests(
          { ...req, limit, startKey },
          {
            ...opts.call,
            read: (r) => {
              stopped = !sink.consume(r.accessRequests);
              return { count: r.accessRequests.length, nextKey: r.nextKey };
            },
          },
        ),
      opts.pageSize,
      opts.limit,
    );
    for await (const _ of pages) {
      first = false;
      if (stopped) return;
      await sink.between?.();
    }
    return;
  } catch (err) {
    if (!first || !isRpcError(err, 'UNIMPLEMENTED')) throw err;
  }
  const filter = req.filter;
  const all: AccessRequestV3[] = [];
  for await (const r of conn.auth.getAccessRequestsV2(
    { id: filter?.id ?? '', user: filter?.user ?? '', state: filter?.state ?? RequestState.NONE },
    { ...opts.call, timeoutMs: opts.call?.timeoutMs ?? conn.rpcTimeoutMs },
  )) {
    if (matchesFilter(r, { ...emptyFilter(), ...filter, requester: conn.identity.username })) all.push(r);
  }
  sortRequests(all, req.sort, req.descending);
  const cut = opts.limit === undefined ? all : all.slice(0, opts.limit);
  for (let i = 0; i < cut.length; i += opts.pageSize) {
    if (!sink.consume(cut.slice(i, i + opts.pageSize))) return;
    await sink.between?.();
  }
}

type Filter = NonNullable<ListAccessRequestsRequest['filter']>;

function emptyFilter(): Filter {
  return { id: '', user: '', state: RequestState.NONE, searchKeywords: [], scope: 0, requester: '' };
}

/**
 * AccessRequestFilter.Match (api/types/access_request.go), keywords as AccessRequestV3.MatchSearch
 * matches them: label keys and values, the ID, the user, roles and requested resource names.
 */
export function matchesFilter(r: AccessRequestV3, f: Filter): boolean {
  const searched = [
    ...Object.entries(r.metadata?.labels ?? {}).flat(),
    r.metadata?.name,
    r.spec?.user,
    ...(r.spec?.roles ?? []),
    ...(r.spec?.requestedResourceIds ?? []).map((id) => id.name),
  ];
  if (!fieldsMatchKeywords(searched, f.searchKeywords)) return false;
  const user = r.spec?.user ?? '';
  const state = r.spec?.state ?? RequestState.NONE;
  const reviewed = (r.spec?.reviews ?? []).some((rev) => rev.author === f.requester);
  if (f.scope === AccessRequestScope.MY_REQUESTS && user !== f.requester) return false;
  if (f.scope === AccessRequestScope.NEEDS_REVIEW) {
    if (user === f.requester || state !== RequestState.PENDING || reviewed) return false;
  }
  if (f.scope === AccessRequestScope.REVIEWED && (user === f.requester || !reviewed)) return false;
  if (f.id && r.metadata?.name !== f.id) return false;
  if (f.user && user !== f.user) return false;
  if (f.state !== RequestState.NONE && state !== f.state) return false;
  return true;
}

/** Sorts as ListAccessRequests does: by the key (a state by its name), then by ID. */
export function sortRequests(list: AccessRequestV3[], sort: AccessRequestSort, descending: boolean): void {
  const key = (r: AccessRequestV3): string | number => {
    switch (sort) {
      case AccessRequestSort.STATE:
        return RequestState[r.spec?.state ?? 0] ?? '';
      case AccessRequestSort.USER:
        return r.spec?.user ?? '';
      default:
        return r.spec?.created?.getTime() ?? 0;
    }
  };
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  list.sort((a, b) => cmp(key(a), key(b)) || cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  if (descending) list.reverse();
}

/** Which requests `ls` asks for, in the domain's words; the wire's numbers stay here. */
export interface RequestQuery {
  user?: string;
  /** Undefined for any state. */
  state?: RequestStateName;
  scope: 'all' | 'mine' | 'needs-review' | 'reviewed';
  search: string[];
  sort: 'created' | 'state' | 'user';
  descending: boolean;
}

const SCOPES: Record<RequestQuery['scope'], AccessRequestScope> = {
  all: AccessRequestScope.DEFAULT,
  mine: AccessRequestScope.MY_REQUESTS,
  'needs-review': AccessRequestScope.NEEDS_REVIEW,
  reviewed: AccessRequestScope.REVIEWED,
};

const SORTS: Record<RequestQuery['sort'], AccessRequestSort> = {
  created: AccessRequestSort.CREATED,
  state: AccessRequestSort.STATE,
  user: AccessRequestSort.USER,
};

/** Pages of access requests as the model shapes them (see {@link accessRequestPages}). */
export async function requestPages(
  conn: Connection,
  query: RequestQuery,
  opts: { pageSize: number; limit?: number; call?: CallOptions },
  sink: PageSink<AccessRequest>,
): Promise<void> {
  await accessRequestPages(
    conn,
    {
      filter: {
        id: '',
        user: query.user ?? '',
        state: RequestState[query.state ?? 'NONE'],
        scope: SCOPES[query.scope],
        searchKeywords: query.search,
        requester: '',
      },
      sort: SORTS[query.sort],
      descending: query.descending,
    },
    opts,
    { consume: (page) => sink.consume(page.map(requestFromProto)), between: sink.between },
  );
}
