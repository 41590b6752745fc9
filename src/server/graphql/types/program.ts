// Programs: the active version, its history, checking, publishing, simulating.
import type { Program, ReplayResult } from '../../engine.ts';
import { ProgramInvalidError } from '../../services/errors.ts';
import { compileSource, programOf, publishProgram } from '../../services/programs.ts';
import { simulate } from '../../services/simulate.ts';
import { ADMIN, KEYS, READ } from '../access.ts';
import { builder } from '../builder.ts';
import { compileComplexity } from '../cost.ts';
import { merchantId } from '../context.ts';
import { DiagnosticRef, pageComplexity, withSource } from './common.ts';

const TierDefinition = builder.objectRef<Program['tiers'][number]>('TierDefinition').implement({
  authScopes: KEYS,
  fields: (t) => ({
    name: t.exposeString('name'),
    threshold: t.int({ description: 'Minor units for the spend metric; points or orders otherwise.', resolve: (x) => x.threshold }),
    multiplier: t.string({ nullable: true, description: 'As written in the program, e.g. "1.25".', resolve: (x) => x.multiplierText }),
    perks: t.stringList({ resolve: (x) => [...x.perks] }),
  }),
});

const ClubDefinition = builder.objectRef<Program['clubs'][number]>('ClubDefinition').implement({
  authScopes: KEYS,
  fields: (t) => ({
    name: t.exposeString('name'),
    fee: t.string({
      nullable: true,
      description: 'e.g. "9.99 USD per month"; null for a free club.',
      resolve: (c) => c.fee?.text ?? null,
    }),
    multiplier: t.string({ nullable: true, resolve: (c) => c.multiplierText }),
    perks: t.stringList({ resolve: (c) => [...c.perks] }),
  }),
});

export const ProgramVersionRef = builder.prismaObject('ProgramVersion', {
  authScopes: KEYS,
  description: 'One published version of the merchant\'s program.',
  fields: (t) => ({
    id: t.exposeID('id'),
    version: t.exposeInt('version'),
    name: t.exposeString('name'),
    hash: t.exposeString('hash', { description: 'sha256 of the source; ledger entries name the version they came from.' }),
    currency: t.exposeString('currency'),
    active: t.exposeBoolean('active'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    source: t.exposeString('source'),
    timezone: t.string({ resolve: (v) => programOf(v).timezone }),
    unit: t.string({ description: 'Display name of the points unit.', resolve: (v) => programOf(v).unit }),
    tiers: t.field({ type: [TierDefinition], resolve: (v) => [...programOf(v).tiers] }),
    clubs: t.field({ type: [ClubDefinition], resolve: (v) => [...programOf(v).clubs] }),
  }),
});

const CheckResult = builder
  .objectRef<{ ok: boolean; source: string; program: Program | undefined; diagnostics: ReturnType<typeof withSource> }>(
    'CheckProgramResult',
  )
  .implement({
    authScopes: KEYS,
    fields: (t) => ({
      ok: t.exposeBoolean('ok', { description: 'true when the program compiles (warnings allowed).' }),
      name: t.string({ nullable: true, resolve: (r) => r.program?.name ?? null }),
      hash: t.string({ nullable: true, resolve: (r) => r.program?.hash ?? null }),
      diagnostics: t.field({ type: [DiagnosticRef], resolve: (r) => r.diagnostics }),
    }),
  });

const PublishPayload = builder
  .objectRef<{ versionId: string; created: boolean; warnings: ReturnType<typeof withSource> }>('PublishProgramPayload')
  .implement({
    authScopes: KEYS,
    fields: (t) => ({
      created: t.exposeBoolean('created', {
        description: 'false when the source equals the active version: nothing changed.',
      }),
      program: t.prismaField({
        type: 'ProgramVersion',
        resolve: (query, p, _a, ctx) => ctx.prisma.programVersion.findUniqueOrThrow({ ...query, where: { id: p.versionId } }),
      }),
      warnings: t.field({ type: [DiagnosticRef], resolve: (p) => p.warnings }),
    }),
  });

const SimulatedEntry = builder.objectRef<ReplayResult['members'][string]['ledger'][number]>('SimulatedLedgerEntry').implement({
  authScopes: KEYS,
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    kind: t.string({ resolve: (e) => e.kind }),
    points: t.exposeInt('points'),
    rule: t.string({ nullable: true, resolve: (e) => e.rule }),
    ref: t.string({ nullable: true, resolve: (e) => e.ref }),
  }),
});

const SimulatedMember = builder
  .objectRef<ReplayResult['members'][string] & { id: string }>('SimulatedMember')
  .implement({
    authScopes: KEYS,
    fields: (t) => ({
      id: t.exposeID('id'),
      balance: t.exposeInt('balance'),
      tier: t.string({ nullable: true, resolve: (m) => m.tier }),
      clubs: t.stringList({ resolve: (m) => [...m.clubs] }),
      ledger: t.field({ type: [SimulatedEntry], resolve: (m) => [...m.ledger] }),
    }),
  });

const SimulatedError = builder.objectRef<ReplayResult['errors'][number]>('SimulationError').implement({
  authScopes: KEYS,
  fields: (t) => ({
    line: t.int({ description: 'Index of the event in `events`, from 1.', resolve: (e) => e.line }),
    message: t.exposeString('message'),
  }),
});

const Simulation = builder.objectRef<ReplayResult>('Simulation').implement({
  authScopes: KEYS,
  description: 'The replay result of a draft program over the given events; nothing is written.',
  fields: (t) => ({
    members: t.field({
      type: [SimulatedMember],
      resolve: (r) => Object.entries(r.members).map(([id, m]) => ({ ...m, id })),
    }),
    errors: t.field({ type: [SimulatedError], resolve: (r) => [...r.errors] }),
    result: t.field({ type: 'JSON', description: 'The same result as `loyalty replay --json`.', resolve: (r) => r }),
  }),
});

builder.queryFields((t) => ({
  program: t.prismaField({
    type: 'ProgramVersion',
    authScopes: READ,
    nullable: true,
    description: 'The active program version, or null before the first publish.',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.programVersion.findFirst({ ...query, where: { merchantId: merchantId(ctx), active: true } }),
  }),
  programVersions: t.prismaConnection(
    {
      type: 'ProgramVersion',
      cursor: 'id',
      authScopes: READ,
      description: 'Every published version, newest first.',
      complexity: pageComplexity,
      resolve: (query, _root, _args, ctx) =>
        ctx.prisma.programVersion.findMany({ ...query, where: { merchantId: merchantId(ctx) }, orderBy: { version: 'desc' } }),
    },
    { name: 'ProgramVersionConnection' },
    { name: 'ProgramVersionEdge' },
  ),
  checkProgram: t.field({
    type: CheckResult,
    authScopes: ADMIN,
    complexity: compileComplexity,
    description: 'Compiles a program and returns its diagnostics; changes nothing.',
    args: { source: t.arg.string({ required: true }) },
    resolve: (_root, { source }, ctx) => {
      merchantId(ctx);
      const result = compileSource(source);
      return { ok: Boolean(result.program), source, program: result.program, diagnostics: withSource(result.diagnostics, source) };
    },
  }),
  simulate: t.field({
    type: Simulation,
    authScopes: ADMIN,
    description: 'Replays events (replay.md objects) against a draft program; nothing is written.',
    errors: { types: [ProgramInvalidError] },
    complexity: compileComplexity,
    args: {
      source: t.arg.string({ required: true }),
      events: t.arg({ type: ['JSON'], required: true }),
    },
    resolve: (_root, { source, events }, ctx) => {
      merchantId(ctx);
      return simulate(source, events);
    },
  }),
}));

builder.mutationFields((t) => ({
  publishProgram: t.field({
    type: PublishPayload,
    authScopes: ADMIN,
    complexity: compileComplexity,
    description: 'Compiles the program; on success stores it as a new version and makes it active.',
    errors: { types: [ProgramInvalidError] },
    args: { source: t.arg.string({ required: true }) },
    resolve: async (_root, { source }, ctx) => {
      const { version, created, diagnostics } = await publishProgram(ctx.prisma, merchantId(ctx), source);
      return { versionId: version.id, created, warnings: withSource(diagnostics, source) };
    },
  }),
}));
