/**
 * The identity and audit methods of a client session (`whoami`, `token.*`, `user.*`,
 * `audit.list`), on the gatekeeper's identities and audit log.
 */
import type { Principal } from '../protocol/roles.js';
import { type AccessMethod, type AccessResults } from '../protocol/access-methods.js';
import type { Gatekeeper } from './gatekeeper.js';
import { parse } from './method-params.js';

export async function handleAccess(gate: Gatekeeper, who: Principal, method: AccessMethod, raw: unknown): Promise<AccessResults[AccessMethod]> {
  const { identities } = gate;
  switch (method) {
    case 'whoami':
      parse(method, raw);
      return { name: who.name, kind: who.kind, permissions: [...who.permissions] };
    case 'token.create': {
      const p = parse(method, raw);
      return identities.createToken(p.name, p.roles, p.expiresAt, who.name);
    }
    case 'token.list':
      parse(method, raw);
      return { tokens: identities.listTokens() };
    case 'token.revoke':
      return { token: identities.revokeToken(parse(method, raw).name) };
    case 'user.add': {
      const p = parse(method, raw);
      return { user: await identities.addUser(p.name, p.roles, p.password, who.name) };
    }
    case 'user.list':
      parse(method, raw);
      return { users: identities.listUsers() };
    case 'user.remove':
      return { user: identities.removeUser(parse(method, raw).name) };
    case 'audit.list': {
      const p = parse(method, raw);
      return { entries: gate.audit.list(p.limit, p.before) };
    }
  }
}
