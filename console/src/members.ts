// The members pages: the list (search by id, filter by tier) and one
// member's balance, pending points (by order, with when they vest), tier
// progress, clubs, challenge progress and explained ledger. Each ledger
// entry names its rule; opening it shows the line of the program version
// that wrote it, in that version's text.
import { gql } from './api.ts';
import { splitLines } from './diff.ts';
import { clear, formatDate, h } from './dom.ts';
import {
  ConsoleMemberDocument,
  ConsoleMembersDocument,
  ConsoleProgramDocument,
  ConsoleVersionsDocument,
  type ConsoleMemberQuery,
  type ConsoleMemberRowFragment,
} from './generated/operations.ts';

const PAGE = 25;

export async function membersPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const tier = params.get('tier') ?? '';
  const { program } = await gql(ConsoleProgramDocument, {});
  const tiers = program?.tiers.map((t) => t.name) ?? [];

  const search = h('input', { id: 'member-search', name: 'id', type: 'search', required: true, autocomplete: 'off', placeholder: 'e.g. ava' });
  const tierSelect = h('select', { id: 'tier-filter', name: 'tier' }, h('option', { value: '' }, 'All tiers'), tiers.map((t) => h('option', { value: t }, t)));
  tierSelect.value = tier;
  const notice = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const rows = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const count = h('p', { class: 'meta' });

  const searchForm = h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const id = search.value.trim();
        if (!id) return;
        const { member } = await gql(ConsoleMemberDocument, { id, first: 1 });
        if (member) location.hash = `#/members/${encodeURIComponent(id)}`;
        else clear(notice, `No member with id “${id}”.`);
      },
    },
    h('label', { for: 'member-search' }, 'Member id'),
    search,
    h('button', { type: 'submit', class: 'primary' }, 'Open'),
  );
  tierSelect.addEventListener('change', () => {
    location.hash = tierSelect.value ? `#/members?tier=${encodeURIComponent(tierSelect.value)}` : '#/members';
  });

  let after: string | null = null;
  async function load() {
    const { members } = await gql(ConsoleMembersDocument, { first: PAGE, after, tier: tier || null });
    clear(count, `${members.totalCount} member${members.totalCount === 1 ? '' : 's'}${tier ? ` in ${tier}` : ''}`);
    rows.append(...members.edges.map((e) => memberRow(e.node)));
    after = members.pageInfo.endCursor ?? null;
    more.hidden = !members.pageInfo.hasNextPage;
  }
  more.addEventListener('click', () => void load());

  clear(
    main,
    h('header', { class: 'page-header' }, h('h1', { id: 'page-title', tabindex: '-1' }, 'Members')),
    h(
      'section',
      { class: 'card', 'aria-label': 'Find members' },
      searchForm,
      h('div', { class: 'filter' }, h('label', { for: 'tier-filter' }, 'Tier'), tierSelect),
      notice,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'list-title' },
      h('h2', { id: 'list-title' }, tier ? `Members in ${tier}` : 'All members'),
      count,
      h('div', { class: 'table-wrap' }, h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Member'), h('th', { scope: 'col' }, 'Tier'), h('th', { scope: 'col', class: 'num' }, 'Balance'), h('th', { scope: 'col' }, 'Clubs'), h('th', { scope: 'col' }, 'Signed up'))), rows)),
      more,
    ),
  );
  await load();
}

function memberRow(m: ConsoleMemberRowFragment): HTMLTableRowElement {
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, h('a', { href: `#/members/${encodeURIComponent(m.id)}` }, m.id)),
    h('td', { 'data-label': 'Tier' }, m.tier?.name ?? '—'),
    h('td', { class: 'num', 'data-label': 'Balance' }, m.balance.toLocaleString('en-US')),
    h('td', { 'data-label': 'Clubs' }, m.clubs.map((c) => c.name).join(', ') || '—'),
    h('td', { 'data-label': 'Signed up' }, formatDate(m.signupAt)),
  );
}

type Member = NonNullable<ConsoleMemberQuery['member']>;
type Entry = Member['ledger']['edges'][number]['node'];

/** Program sources by version number, loaded once per page view when an entry is opened. */
let sources: Promise<Map<number, string>> | null = null;
function versionSources(): Promise<Map<number, string>> {
  sources ??= gql(ConsoleVersionsDocument, { first: 100 }).then(({ programVersions }) => new Map(programVersions.edges.map((e) => [e.node.version, e.node.source])));
  return sources;
}

export async function memberPage(main: HTMLElement, id: string): Promise<void> {
  sources = null;
  const { member, program } = await gql(ConsoleMemberDocument, { id, first: 50 });
  const timezone = program?.timezone ?? 'UTC';
  if (!member) {
    clear(main, h('h1', { id: 'page-title', tabindex: '-1' }, 'No such member'), h('p', {}, `No member has the id “${id}”. `, h('a', { href: '#/members' }, 'Back to members')));
    return;
  }
  const ledger = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more entries');
  let after: string | null = null;
  const addEntries = (m: Member) => {
    for (const e of m.ledger.edges) ledger.append(...entryRows(e.node));
    after = m.ledger.pageInfo.endCursor ?? null;
    more.hidden = !m.ledger.pageInfo.hasNextPage;
  };
  more.addEventListener('click', async () => {
    const { member: page } = await gql(ConsoleMemberDocument, { id, first: 50, after });
    if (page) addEntries(page);
  });

  clear(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/members' }, '← Members')),
    h('header', { class: 'page-header' }, h('h1', { id: 'page-title', tabindex: '-1' }, `Member ${member.id}`), h('p', { class: 'meta' }, `Signed up ${formatDate(member.signupAt)} · last event ${formatDate(member.lastEventAt)}`)),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card stat', 'aria-labelledby': 'balance-title' },
        h('h2', { id: 'balance-title' }, 'Balance'),
        h('p', { class: 'big', id: 'balance' }, member.balance.toLocaleString('en-US')),
        member.pendingPoints
          ? h('p', { class: 'meta', id: 'pending-points' }, h('a', { href: '#pending-title', onclick: focusSection('pending-title') }, `+${member.pendingPoints.toLocaleString('en-US')} pending`), ', not yet in the balance')
          : null,
      ),
      tierCard(member),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'clubs-title' },
        h('h2', { id: 'clubs-title' }, 'Clubs'),
        member.clubs.length
          ? h('ul', {}, member.clubs.map((c) => h('li', {}, h('strong', {}, c.name), ` since ${formatDate(c.since)}`, c.until ? ` until ${formatDate(c.until)}` : '', c.perks.length ? ` · perks: ${c.perks.join(', ')}` : '')))
          : h('p', {}, 'No clubs.'),
      ),
    ),
    member.challenges.length ? challengesCard(member.challenges, timezone) : null,
    member.pending.length ? pendingCard(member) : null,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'ledger-title' },
      h('h2', { id: 'ledger-title' }, 'Ledger'),
      h('p', { class: 'meta' }, `${member.ledger.totalCount} entries. Open an entry’s rule to see the program line that wrote it.`),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'ledger stack' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col', class: 'num' }, 'Points'), h('th', { scope: 'col' }, 'Rule'), h('th', { scope: 'col' }, 'Order'))),
          ledger,
        ),
      ),
      more,
    ),
  );
  addEntries(member);
}

function tierCard(member: Member): HTMLElement {
  const tier = member.tier;
  const progress = tier?.progress;
  const parts: (HTMLElement | string)[] = [h('h2', { id: 'tier-title' }, 'Tier'), h('p', { class: 'big', id: 'tier-name' }, tier?.name ?? 'None')];
  if (tier?.multiplier) parts.push(h('p', { class: 'meta' }, `Multiplier ${tier.multiplier}×${tier.perks.length ? ` · perks: ${tier.perks.join(', ')}` : ''}`));
  if (progress) {
    const money = progress.metric === 'SPEND';
    const value = money && progress.valueMoney ? `${progress.valueMoney.amount} ${progress.valueMoney.currency}` : String(progress.value);
    if (progress.nextTier && progress.remaining !== null && progress.remaining !== undefined) {
      const total = progress.value + progress.remaining;
      const percent = total > 0 ? Math.max(0, Math.min(100, Math.round((progress.value / total) * 100))) : 100;
      const remaining = money && progress.remainingMoney ? `${progress.remainingMoney.amount} ${progress.remainingMoney.currency}` : String(progress.remaining);
      parts.push(
        h('label', { for: 'tier-progress', class: 'meta' }, `${remaining} more (${progress.metric.toLowerCase()}) to ${progress.nextTier}`),
        h('progress', { id: 'tier-progress', max: 100, value: percent, 'aria-valuetext': `${percent}% of the way to ${progress.nextTier}` }, `${percent}%`),
        h('p', { class: 'meta' }, `Qualifying ${progress.metric.toLowerCase()} so far: ${value}`),
      );
    } else parts.push(h('p', { class: 'meta' }, `Top tier. Qualifying ${progress.metric.toLowerCase()}: ${value}`));
    if (progress.graceUntil) parts.push(h('p', { class: 'meta' }, `Kept until ${formatDate(progress.graceUntil)} unless they qualify again.`));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'tier-title' }, ...parts);
}

/** An in-page link to a section: moves the focus to its heading (the router owns the hash). */
function focusSection(headingId: string): EventListener {
  return (event: Event) => {
    event.preventDefault();
    const heading = document.getElementById(headingId);
    heading?.scrollIntoView({ block: 'start' });
    heading?.focus();
  };
}

const PERIODS: Record<string, string> = { day: 'today', week: 'this week', month: 'this month', year: 'this year', member: 'so far' };

/** When a challenge's period resets, in the program's time zone: "Monday", "tomorrow", "on 1 March". */
function resetsText(period: string, resetsAt: string, timezone: string): string {
  const at = new Date(resetsAt);
  if (period === 'day') return 'tomorrow';
  if (period === 'week') return new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: timezone }).format(at);
  return `on ${new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', ...(period === 'year' ? { year: 'numeric' } : {}), timeZone: timezone }).format(at)}`;
}

type Challenge = Member['challenges'][number];

function challengesCard(challenges: Challenge[], timezone: string): HTMLElement {
  const items = challenges.map((c, i) => {
    const money = c.metric === 'spend';
    const value = money ? Number(c.spend?.amount ?? 0) : (c.orders ?? 0);
    const goal = money ? Number(c.spendGoal?.amount ?? 0) : (c.ordersGoal ?? 0);
    const shown = c.completed ? goal : Math.min(value, goal);
    const percent = goal > 0 ? Math.round((shown / goal) * 100) : 100;
    const amount = (m: { amount: string; currency: string } | null | undefined) => (m ? `${m.amount} ${m.currency}` : '0');
    const of = money ? `${amount(c.spend)} of ${amount(c.spendGoal)}` : `${value} of ${goal} order${goal === 1 ? '' : 's'}`;
    const when = PERIODS[c.period] ?? `per ${c.period}`;
    const resets = c.resetsAt ? h('time', { datetime: c.resetsAt, title: formatDate(c.resetsAt) }, resetsText(c.period, c.resetsAt, timezone)) : null;
    const progressId = `challenge-${i}`;
    const summary = c.completed
      ? [`${c.period === 'member' ? 'Done' : `Done ${when}`}: +${c.bonus} points earned`, resets ? [', starts again ', resets] : null]
      : [`${of} ${when}`, resets ? [', resets ', resets] : null];
    return h(
      'li',
      { class: `challenge${c.completed ? ' done' : ''}` },
      h('div', { class: 'challenge-head' }, h('strong', {}, c.name), h('span', { class: 'meta' }, `${c.goal} · +${c.bonus} points`)),
      h('progress', { id: progressId, max: 100, value: percent, 'aria-label': `${c.name}: ${c.completed ? 'done' : of}`, 'aria-valuetext': c.completed ? `done ${when}` : `${of} ${when}` }, `${percent}%`),
      h('p', { class: 'meta challenge-status' }, summary.flat(2)),
    );
  });
  return h('section', { class: 'card', 'aria-labelledby': 'challenges-title' }, h('h2', { id: 'challenges-title' }, 'Challenges'), h('ul', { class: 'challenges', id: 'challenges' }, items));
}

function pendingCard(member: Member): HTMLElement {
  const rows = member.pending.map((p) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, p.orderId),
      h('td', { class: 'num', 'data-label': 'Points' }, `+${p.points.toLocaleString('en-US')}`),
      h('td', { 'data-label': 'Vests' }, h('time', { datetime: p.vestsAt }, formatDate(p.vestsAt))),
      h('td', { 'data-label': 'By rule' }, p.byRule.map((r) => `${r.rule} +${r.points}`).join(', ')),
    ),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'pending-title' },
    h('h2', { id: 'pending-title', tabindex: '-1' }, 'Pending points'),
    h('p', { class: 'meta' }, `${member.pendingPoints.toLocaleString('en-US')} points from ${member.pending.length} order${member.pending.length === 1 ? '' : 's'}, written to the ledger when they vest; until then they are not in the balance and cannot be redeemed.`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stack', id: 'pending' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Order'), h('th', { scope: 'col', class: 'num' }, 'Points'), h('th', { scope: 'col' }, 'Vests'), h('th', { scope: 'col' }, 'By rule'))),
        h('tbody', {}, rows),
      ),
    ),
  );
}

function entryRows(e: Entry): HTMLTableRowElement[] {
  const detailId = `entry-${e.id}`;
  const detail = h('tr', { class: 'entry-detail', id: detailId, hidden: true });
  const rule = e.rule ?? e.kind.toLowerCase();
  const button = h('button', { type: 'button', class: 'link rule', 'aria-expanded': 'false', 'aria-controls': detailId }, rule);
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    detail.hidden = !open;
    if (open && !detail.childElementCount) void showSource(e, detail);
  });
  const row = h(
    'tr',
    { class: `entry ${e.points < 0 ? 'negative' : ''}` },
    h('td', { 'data-label': 'When' }, formatDate(e.at)),
    h('td', { 'data-label': 'Kind' }, e.kind.toLowerCase()),
    h('td', { class: 'num', 'data-label': 'Points' }, e.points > 0 ? `+${e.points}` : String(e.points)),
    h('td', { 'data-label': 'Rule' }, button, e.reason ? h('span', { class: 'meta' }, ` ${e.reason}`) : null),
    h('td', { 'data-label': 'Order' }, e.ref ?? '—'),
  );
  return [row, detail];
}

async function showSource(e: Entry, detail: HTMLTableRowElement): Promise<void> {
  const cell = h('td', { colspan: 5 }, h('p', { class: 'meta' }, 'Loading the program line…'));
  clear(detail, cell);
  const where = `program version ${e.programVersion.version} (${e.programVersion.hash.slice(0, 12)})`;
  if (e.line === null || e.line === undefined) {
    clear(cell, h('p', { class: 'source-ref' }, `Written by ${where}; no program line (${e.kind.toLowerCase()} entries such as adjustments have none).`));
    return;
  }
  const line = e.line;
  const source = (await versionSources()).get(e.programVersion.version);
  const lines = source ? splitLines(source) : [];
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const context: HTMLElement[] = [];
  for (let n = from; n <= to; n++) {
    context.push(h('span', { class: n === line ? 'source-line current' : 'source-line' }, h('span', { class: 'gutter', 'aria-hidden': 'true' }, `${String(n).padStart(4)} `), `${lines[n - 1] ?? ''}\n`));
  }
  clear(
    cell,
    h('p', { class: 'source-ref' }, `Line ${line} of ${where}: `, h('code', { class: 'source-text' }, e.sourceLine ?? lines[line - 1] ?? '')),
    context.length ? h('pre', { class: 'source', 'aria-label': `Lines ${from} to ${to} of version ${e.programVersion.version}` }, context) : null,
  );
}
