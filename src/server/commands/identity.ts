/** Who the caller is, named tokens, dashboard users and the audit log, on the gatekeeper. */
import { command } from './command.js';

export const identityCommands = {
  whoami: command('whoami', ({ principal }) => ({ name: principal.name, kind: principal.kind, permissions: [...principal.permissions] })),
  'token.create': command('token.create', ({ gate, principal }, p) => gate.identities.createToken(p.name, p.roles, p.expiresAt, principal.name)),
  'token.list': command('token.list', ({ gate }) => ({ tokens: gate.identities.listTokens() })),
  'token.revoke': command('token.revoke', async ({ gate }, p) => ({ token: await gate.identities.revokeToken(p.name) })),
  'user.add': command('user.add', async ({ gate, principal }, p) => ({ user: await gate.identities.addUser(p.name, p.roles, p.password, principal.name) })),
  'user.list': command('user.list', ({ gate }) => ({ users: gate.identities.listUsers() })),
  'user.remove': command('user.remove', async ({ gate }, p) => ({ user: await gate.identities.removeUser(p.name) })),
  'audit.list': command('audit.list', async ({ gate }, p) => ({ entries: await gate.audit.list(p.limit, p.before) })),
};
