/** A client or worker request's parameters, checked against the method's schema. */
import { TitanError } from '../core/errors.js';
import { type Method, params } from '../protocol/methods.js';
import { describeIssues } from '../protocol/peer.js';

export function parse<M extends Method>(method: M, raw: unknown): ReturnType<(typeof params)[M]['parse']> {
  const result = params[method].safeParse(raw ?? {});
  if (!result.success) throw new TitanError('BAD_REQUEST', `invalid parameters for ${method}: ${describeIssues(result.error.issues)}`);
  return result.data as ReturnType<(typeof params)[M]['parse']>;
}

export function isMethod(name: string): name is Method {
  return Object.hasOwn(params, name);
}
