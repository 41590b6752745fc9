// API keys (admin) and member tokens (write): creating, listing, revoking.
import {
  createMemberToken,
  DEFAULT_MEMBER_TOKEN_TTL,
  listApiKeys,
  MAX_MEMBER_TOKEN_TTL,
  MIN_MEMBER_TOKEN_TTL,
  newApiKey,
  revokeApiKey,
  revokeMemberTokens,
  rotateMemberTokenSecret,
  type NewApiKey,
} from '../../services/auth.ts';
import { ADMIN, KEYS, WRITE } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId } from '../context.ts';

export const ApiKeyScope = builder.enumType('ApiKeyScope', {
  description: 'What a key may do. Each scope includes the ones below it.',
  values: {
    ADMIN: { value: 'admin', description: 'Everything: programs, keys, advanceTime, corrections (updateMember, exportMember, eraseMember), the audit log, and all that `WRITE` may do.' },
    WRITE: {
      value: 'write',
      description: 'A POS or shop backend: orders, refunds, redemptions, events, clubs, signups, member tokens, and reads.',
    },
    READ: { value: 'read', description: 'Reads only.' },
  } as const,
});

const ApiKeyRef = builder.prismaObject('ApiKey', {
  authScopes: ADMIN,
  description: 'An API key of the merchant. The key itself is shown only when it is created.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The key\'s id, for `revokeApiKey`.' }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    label: t.exposeString('label', { nullable: true, description: 'What the key is for, e.g. "POS terminals".' }),
    scope: t.field({ type: ApiKeyScope, description: 'What the key may do.', resolve: (k) => k.scope }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the key was created.' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the key last authenticated a request (recorded within about ten seconds); null if never.',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'Null while the key works.' }),
  }),
});

const CreateApiKeyPayload = builder.objectRef<NewApiKey>('CreateApiKeyPayload').implement({
  authScopes: ADMIN,
  description: 'A new API key, with the secret shown this once.',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The new key, `lk_...`: store it now, it is never shown again.' }),
    apiKey: t.field({ type: ApiKeyRef, description: 'The key\'s record, as `apiKeys` lists it.', resolve: (k) => k.record }),
  }),
});

const MemberTokenRef = builder.objectRef<{ token: string; expiresAt: number; memberId: string }>('MemberToken').implement({
  authScopes: KEYS,
  description: 'A token for one member\'s browser or app: send it as `Authorization: Bearer <token>`.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The token itself (a signed JWT).' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the token stops working.', resolve: (x) => x.expiresAt }),
    memberId: t.exposeID('memberId', { description: 'The member the token is for.' }),
  }),
});

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKeyRef],
    authScopes: ADMIN,
    description: 'Every API key of the merchant, revoked ones included, oldest first.',
    resolve: (_root, _args, ctx) => listApiKeys(ctx.prisma, merchantId(ctx)),
  }),
);

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    authScopes: ADMIN,
    description: 'Creates a key with the given scope; the payload holds the key, shown only this once.',
    args: {
      scope: t.arg({ type: ApiKeyScope, required: true, description: 'What the new key may do.' }),
      label: t.arg.string({ required: false, description: 'What the key is for (at most 100 characters).' }),
    },
    resolve: (_root, { scope, label }, ctx) => newApiKey(ctx.prisma, merchantId(ctx), { scope, label }, ctx),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    authScopes: ADMIN,
    description: 'Revokes a key at once (the next request with it is refused with HTTP 401). Revoking twice is harmless.',
    args: { id: t.arg.id({ required: true, description: 'The key\'s id, or its prefix.' }) },
    resolve: (_root, { id }, ctx) => revokeApiKey(ctx.prisma, merchantId(ctx), String(id), ctx),
  }),
  createMemberToken: t.field({
    type: MemberTokenRef,
    authScopes: WRITE,
    description:
      'A token with which a member\'s browser or app reads that member\'s own balance, tier, ledger and quotes, and nothing else.',
    args: {
      memberId: t.arg.id({ required: true, description: 'The merchant\'s id of the member the token is for.' }),
      ttl: t.arg.int({
        required: false,
        defaultValue: DEFAULT_MEMBER_TOKEN_TTL,
        description: `Seconds until the token expires, ${MIN_MEMBER_TOKEN_TTL} to ${MAX_MEMBER_TOKEN_TTL}.`,
      }),
    },
    resolve: async (_root, { memberId, ttl }, ctx) => {
      const member = String(memberId);
      const token = await createMemberToken(ctx.prisma, merchantId(ctx), member, ttl ?? DEFAULT_MEMBER_TOKEN_TTL);
      return { ...token, memberId: member };
    },
  }),
  revokeMemberTokens: t.boolean({
    authScopes: WRITE,
    description: 'Every token issued so far for the member stops working (tokens created afterwards work).',
    args: { memberId: t.arg.id({ required: true, description: 'The merchant\'s member id.' }) },
    resolve: async (_root, { memberId }, ctx) => {
      await revokeMemberTokens(ctx.prisma, merchantId(ctx), String(memberId));
      return true;
    },
  }),
  rotateMemberTokenSecret: t.boolean({
    authScopes: ADMIN,
    description: 'Replaces the secret that signs member tokens: every member token issued so far stops working.',
    resolve: async (_root, _args, ctx) => {
      await rotateMemberTokenSecret(ctx.prisma, merchantId(ctx), ctx);
      return true;
    },
  }),
}));
