// Who may call what: the scopes of @pothos/plugin-scope-auth.
//
// Every Query and Mutation field names the scope it needs (ADMIN, WRITE,
// READ, or a function of its arguments for the fields member tokens may
// call); test/api/access.test.ts fails for a root field that names none.
// Object types are for keys only (`authScopes: KEYS` on the type); a field
// that a member token may read too spreads MEMBER_VISIBLE into its options.
// A member token reaches member data only through root fields that check
// the member is its own (`self`), so the fields it may then read need no
// check of their own.
import type { GraphQLResolveInfo } from 'graphql';
import { DomainError } from '../services/errors.ts';
import type { Context } from './context.ts';

export interface AccessScopes {
  /** An admin key: programs, keys, advanceTime, corrections. */
  admin: boolean;
  /** A write key (or admin): orders, refunds, redemptions, events, clubs, signups, member tokens. */
  write: boolean;
  /** Any key. */
  read: boolean;
  /** A member token, whichever member it is for. */
  member: boolean;
  /** A member token for this member id (the merchant's id for the member). */
  self: string;
}

export function scopesOf(ctx: Context) {
  const credential = ctx.credential;
  const key = credential?.kind === 'key' ? credential.scope : null;
  return {
    admin: key === 'admin',
    write: key === 'admin' || key === 'write',
    read: key !== null,
    member: credential?.kind === 'member',
    self: (memberId: string) => credential?.kind === 'member' && credential.memberId === memberId,
  };
}

export const ADMIN = { admin: true } as const;
export const WRITE = { write: true } as const;
export const READ = { read: true } as const;
/** Type-level scopes of every object type: keys of any scope, no member token. */
export const KEYS = READ;
/** Type-level scopes of the types only member data leads to: keys and member tokens. */
export const KEYS_AND_MEMBERS = { read: true, member: true } as const;
/** A key, or the member token of the member `memberId`. */
export const readOrSelf = (memberId: string) => ({ read: true, self: memberId }) as const;
/** Spread into a field's options to let member tokens read it as well as keys. */
export const MEMBER_VISIBLE = { skipTypeScopes: true, authScopes: { read: true, member: true } } as const;

/** The FORBIDDEN error of a field the credential's scope does not allow (HTTP 403). */
export function forbidden(ctx: Context, info: GraphQLResolveInfo): DomainError {
  const credential = ctx.credential;
  const field = `${info.parentType.name}.${info.fieldName}`;
  const message =
    credential?.kind === 'member'
      ? `a member token reads only its own member (balance, tier, ledger, quote); ${field} is not allowed`
      : credential
        ? `a key with the "${credential.scope}" scope may not use ${field}`
        : `${field} needs a credential`;
  return new DomainError('FORBIDDEN', message, { http: { status: 403 } });
}
