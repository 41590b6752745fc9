// The audit log of admin actions (admin only): who did what to what, newest first.
import { ADMIN } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId } from '../context.ts';
import { pageComplexity, totalCountField } from './common.ts';

builder.prismaObject('AuditEntry', {
  authScopes: ADMIN,
  description: 'One admin action. Entries are never changed, except that an erasure renames the member they name.',
  fields: (t) => ({
    id: t.id({ description: 'The entry\'s id; ids grow in the order actions were recorded.', resolve: (e) => e.id.toString() }),
    at: t.expose('at', { type: 'DateTime', description: 'When the action was recorded.' }),
    actorKeyId: t.exposeID('actorKeyId', { nullable: true, description: 'The id of the API key that acted (as `apiKeys` lists it); null for the server itself.' }),
    actorLabel: t.exposeString('actorLabel', { nullable: true, description: 'The key\'s label when it acted, or its prefix when it had none.' }),
    action: t.exposeString('action', {
      description: 'The mutation: createApiKey, revokeApiKey, rotateMemberTokenSecret, publishProgram, advanceTime, updateMember, eraseMember.',
    }),
    target: t.exposeString('target', { nullable: true, description: 'What it acted on: a member id, an API key id, a program version number; null for advanceTime and rotateMemberTokenSecret.' }),
    details: t.expose('details', { type: 'JSON', description: 'What else it had, never personal data (updateMember lists the fields it changed, not their values).' }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.prismaConnection(
    {
      type: 'AuditEntry',
      cursor: 'id',
      authScopes: ADMIN,
      description: 'The audit log of admin actions, newest first, optionally of one action or one target.',
      complexity: pageComplexity,
      args: {
        action: t.arg.string({ required: false, description: 'Only entries of this action, e.g. "updateMember".' }),
        target: t.arg.string({ required: false, description: 'Only entries about this target, e.g. a member id.' }),
      },
      totalCount: (_root, { action, target }, ctx) =>
        ctx.prisma.auditEntry.count({ where: { merchantId: merchantId(ctx), ...(action != null ? { action } : {}), ...(target != null ? { target } : {}) } }),
      resolve: (query, _root, { action, target }, ctx) =>
        ctx.prisma.auditEntry.findMany({
          ...query,
          where: { merchantId: merchantId(ctx), ...(action != null ? { action } : {}), ...(target != null ? { target } : {}) },
          orderBy: { id: 'desc' },
        }),
    },
    { name: 'AuditEntryConnection', fields: (t) => ({ totalCount: t.int(totalCountField) }) },
    { name: 'AuditEntryEdge' },
  ),
);
