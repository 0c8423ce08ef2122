/** `--condition EXPR` on request listings: the Access Monitoring Rule language, evaluated here. */
import { UsageError } from '../../model/errors.js';
import type { AccessRequest } from '../../model/request.js';

export const CONDITION_FLAG = '--condition <expr>';
export const CONDITION_HELP =
  'only requests matching an Access Monitoring Rule condition, e.g. \'access_request.spec.user == "alice"\'' +
  ' (user.traits and resource labels read as empty here)';

/** Compiles the condition before anything is sent; a bad one is a usage error with its position. */
export async function requestCondition(expr: string | undefined): Promise<(r: AccessRequest) => boolean> {
  if (expr === undefined) return () => true;
  const { ConditionError, compileCondition, requestContext } = await import('../../model/rule-condition.js');
  let cond: ReturnType<typeof compileCondition>;
  try {
    cond = compileCondition(expr);
  } catch (err) {
    if (err instanceof ConditionError) throw new UsageError(`invalid --condition: ${err.message}`);
    throw err;
  }
  return (r) => cond.test(requestContext(r));
}
