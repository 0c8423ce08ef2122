/**
 * The access monitor of the Auth service (lib/accessmonitoring/monitor.go, AccessMonitor.Run)
 * with its builtin automatic-review handler (lib/accessmonitoring/review/review.go,
 * HandleAccessRequest): it follows committed changes as a watcher does and, for every PUT of a
 * pending request, submits the review a matching rule asks for. It runs after the change is
 * durable and after the writer got its answer, never inside CreateAccessRequestV2: a read right
 * after creation sees the request pending, as on a real cluster.
 *
 * A server that stops between a request's creation and its review loses nothing acknowledged:
 * the request was durable before CreateAccessRequestV2 answered, and the review had not been
 * acknowledged to anyone. As in Teleport, whose monitor starts from its watcher's Init event and
 * replays no backlog, such a request stays pending after a restart until its next PUT (a review,
 * for instance) passes the handler again. `stop` lets reviews already under way finish first.
 */
import { RequestState } from '../gen/teleport/legacy/types/types.js';
import { automaticReview } from './amr-service.js';
import type { ServiceDeps } from './service.js';
import type { RuleStore } from './storage/amr-store.js';
import type { Commit } from './storage/store.js';

export class AccessMonitor {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly deps: Pick<ServiceDeps, 'policy' | 'store' | 'now' | 'log'> & { rules: RuleStore },
  ) {}

  /** HandleAccessRequest: a PUT of a pending request is reviewed; resolved and deleted ones are not. */
  onCommit(commit: Commit): void {
    const req = commit.after;
    if (commit.op !== 'put' || req?.spec?.state !== RequestState.PENDING || req.spec.dryRun) return;
    // The event is handled on its own turn, as the monitor's goroutine would: the writer that
    // committed the change answers first.
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => automaticReview(this.deps, req))
      .catch((err: unknown) => this.deps.log(`access monitor: ${(err as Error).message}`))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Resolves once no review is under way (including those the reviews' own changes start). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
