// Corrections (admin): a member's birthday and the merchant's note on them,
// and the GDPR export and erasure of a member.
import * as corrections from '../../services/corrections.ts';
import { ADMIN } from '../access.ts';
import { builder } from '../builder.ts';
import { scopeOf } from '../context.ts';
import { MemberPayload } from './member.ts';

const UpdateMemberInput = builder.inputType('UpdateMemberInput', {
  description: 'A correction of a member: a field left out is kept, null clears it.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s member id.' }),
    birthday: t.string({ required: false, description: 'YYYY-MM-DD, a real date; the next birthday bonus is the new birthday\'s first after now.' }),
    note: t.string({ required: false, description: `The merchant's note on the member, at most ${corrections.MAX_NOTE_LENGTH} characters; keys read it, member tokens do not.` }),
  }),
});

builder.mutationFields((t) => ({
  updateMember: t.field({
    type: MemberPayload,
    authScopes: ADMIN,
    description:
      "Corrects a member's birthday or the merchant's note on them. The member is first brought up to now (what fell due is written, in `entries`); recorded in the audit log.",
    args: { input: t.arg({ type: UpdateMemberInput, required: true, description: 'What to correct.' }) },
    resolve: (_root, { input }, ctx) =>
      corrections.updateMember(scopeOf(ctx), ctx, { memberId: String(input.memberId), birthday: input.birthday, note: input.note }),
  }),
  eraseMember: t.field({
    type: MemberPayload,
    authScopes: ADMIN,
    description:
      "Erases a member's personal data (GDPR): their id becomes a pseudonym (`erased-…`, in `member.id`), birthday and note are removed, their tokens stop working. Balance, ledger, orders and referrals stay, for accounting. Recorded in the audit log.",
    args: { memberId: t.arg.id({ required: true, description: 'The merchant\'s member id.' }) },
    resolve: (_root, { memberId }, ctx) => corrections.eraseMember(scopeOf(ctx), ctx, String(memberId)),
  }),
}));

builder.queryField('exportMember', (t) =>
  t.field({
    type: 'JSON',
    authScopes: ADMIN,
    description:
      'Everything stored about a member (GDPR access), as JSON: the member with birthday and note, the engine state, ledger, orders with their lines and refunds, clubs, referrals, and audit entries about them.',
    args: { memberId: t.arg.id({ required: true, description: 'The merchant\'s member id.' }) },
    resolve: (_root, { memberId }, ctx) => corrections.exportMember(scopeOf(ctx), String(memberId)),
  }),
);
