// The program page: the active program in the editor with live diagnostics,
// Format, Publish (with a confirmation that shows the change and the
// server's own check), and the version history with a line diff.
import { ApiError, gql } from './api.ts';
import { diffStats, lineDiff, withContext } from './diff.ts';
import { clear, formatDate, h } from './dom.ts';
import { createProgramEditor, type ProgramEditor } from './editor.ts';
import {
  ConsoleCheckDocument,
  ConsolePreviewDocument,
  ConsoleProgramDocument,
  ConsolePublishDocument,
  ConsoleVersionsDocument,
  type ConsoleDiagFragment,
  type ConsolePreviewQuery,
  type ConsolePreviewTotalsFragment,
  type ConsoleVersionsQuery,
} from './generated/operations.ts';

type Version = ConsoleVersionsQuery['programVersions']['edges'][number]['node'];
type Preview = Extract<ConsolePreviewQuery['previewProgram'], { __typename: 'ProgramPreview' }>;
type PreviewTotals = ConsolePreviewTotalsFragment;
const EDITOR = 'editor';

export async function programPage(main: HTMLElement): Promise<void> {
  const [{ program }, { programVersions }] = await Promise.all([gql(ConsoleProgramDocument, {}), gql(ConsoleVersionsDocument, { first: 100 })]);
  let versions: Version[] = programVersions.edges.map((e) => e.node);
  let active = program;

  const status = h('p', { id: 'diagnostics-status', class: 'status', role: 'status', 'aria-live': 'polite' });
  const problems = h('ul', { class: 'problems', 'aria-label': 'Problems' });
  const message = h('div', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const heading = h('h1', { id: 'page-title', tabindex: '-1' });
  const meta = h('p', { class: 'meta' });
  const editorHost = h('div', { class: 'editor', id: 'program-editor' });
  const formatButton = h('button', { type: 'button', id: 'format' }, 'Format');
  const publishButton = h('button', { type: 'button', id: 'publish', class: 'primary' }, 'Publish…');
  const revertButton = h('button', { type: 'button', id: 'revert' }, 'Revert to active');

  const showHeader = () => {
    clear(heading, active ? active.name : 'No program yet');
    clear(meta, active ? `Active version ${active.version} · ${active.hash.slice(0, 12)} · published ${formatDate(active.createdAt)}` : 'Publish a first version to start.');
  };
  showHeader();

  const editor: ProgramEditor = createProgramEditor(editorHost, active?.source ?? '', { label: 'Program source (.loyalty)', describedBy: 'editor-keys', onChange: () => refresh() });

  function refresh() {
    const diags = editor.diagnostics();
    const errors = diags.filter((d) => d.severity === 'error').length;
    const warnings = diags.length - errors;
    clear(status, diags.length ? `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}` : 'No problems: the program compiles.');
    status.dataset.errors = String(errors);
    publishButton.toggleAttribute('disabled', errors > 0);
    publishButton.title = errors > 0 ? 'Fix the errors first' : '';
    clear(
      problems,
      diags.map((d) =>
        h(
          'li',
          { class: `problem ${d.severity}` },
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => editor.goTo(d.range.start.line + 1, d.range.start.character + 1) },
            `${d.range.start.line + 1}:${d.range.start.character + 1}`,
          ),
          ' ',
          h('span', { class: 'severity' }, `${d.severity} ${d.code}`),
          ' ',
          h('span', { class: 'problem-message' }, d.message),
          d.hint ? h('span', { class: 'hint' }, ` hint: ${d.hint}`) : null,
        ),
      ),
    );
    renderDiff();
  }

  formatButton.addEventListener('click', () => {
    clear(message, editor.format() ? 'Formatted.' : 'The program does not parse: fix the errors to format it.');
  });
  revertButton.addEventListener('click', () => {
    editor.setText(active?.source ?? '');
    clear(message, 'Reverted to the active version.');
  });

  // Publish, after a confirmation.
  const dialog = h('dialog', { id: 'publish-dialog', 'aria-labelledby': 'publish-title' });
  document.body.querySelector('#publish-dialog')?.remove();
  document.body.append(dialog);
  publishButton.addEventListener('click', () => void confirmPublish());

  async function confirmPublish() {
    const source = editor.text();
    const lines = lineDiff(active?.source ?? '', source);
    const { added, removed } = diffStats(lines);
    const serverCheck = h('p', { class: 'status' }, 'Checking on the server…');
    const confirm = h('button', { type: 'submit', class: 'primary', id: 'confirm-publish', value: 'publish' }, `Publish version ${(active?.version ?? 0) + 1}`);
    clear(
      dialog,
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'publish-title' }, 'Publish this program?'),
        h('p', {}, added || removed ? `${added} line${added === 1 ? '' : 's'} added, ${removed} removed since version ${active?.version ?? '—'}. New events use it at once; members are re-tiered under it.` : 'Nothing changed since the active version.'),
        serverCheck,
        h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'cancel', id: 'cancel-publish' }, 'Cancel'), confirm),
      ),
    );
    dialog.showModal();
    (dialog.querySelector('#cancel-publish') as HTMLButtonElement).focus();
    gql(ConsoleCheckDocument, { source })
      .then(({ checkProgram }) => {
        clear(serverCheck, checkProgram.ok ? `The server's check: compiles (${checkProgram.diagnostics.length} warning${checkProgram.diagnostics.length === 1 ? '' : 's'}).` : `The server's check: ${checkProgram.diagnostics.length} problem(s).`);
        confirm.toggleAttribute('disabled', !checkProgram.ok);
      })
      .catch((error: unknown) => clear(serverCheck, `The server's check failed: ${String(error instanceof Error ? error.message : error)}`));
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue === 'publish') void publish(source);
        else publishButton.focus();
      },
      { once: true },
    );
  }

  async function publish(source: string) {
    clear(message, 'Publishing…');
    try {
      const { publishProgram: result } = await gql(ConsolePublishDocument, { source });
      if (result.__typename === 'ProgramInvalid') {
        clear(message, h('strong', {}, 'Not published: '), result.message, h('ul', {}, result.diagnostics.map((d: ConsoleDiagFragment) => h('li', {}, `${d.line}:${d.column} ${d.code} ${d.message}`))));
        return;
      }
      const [{ program: fresh }, { programVersions: list }] = await Promise.all([gql(ConsoleProgramDocument, {}), gql(ConsoleVersionsDocument, { first: 100 })]);
      active = fresh;
      versions = list.edges.map((e) => e.node);
      showHeader();
      renderHistory();
      refresh();
      clear(
        message,
        result.created
          ? `Published version ${result.program.version}. ${result.retiered} member${result.retiered === 1 ? '' : 's'} changed tier.${result.warnings.length ? ` ${result.warnings.length} warning(s).` : ''}`
          : `Nothing to publish: version ${result.program.version} already has this text.`,
      );
    } catch (error) {
      clear(message, h('strong', {}, 'Not published: '), error instanceof ApiError ? error.message : String(error));
    }
  }

  // Preview the editor's text against the recorded history (previewProgram).
  const previewButton = h('button', { type: 'button', id: 'preview-run' }, 'Preview the editor’s program');
  const previewStatus = h('p', { class: 'status', id: 'preview-status', role: 'status', 'aria-live': 'polite' });
  const previewView = h('div', { id: 'preview-result' });
  previewButton.addEventListener('click', () => void runPreview());

  async function runPreview() {
    clear(previewStatus, 'Replaying the history…');
    clear(previewView);
    previewButton.toggleAttribute('disabled', true);
    try {
      const { previewProgram: result } = await gql(ConsolePreviewDocument, { source: editor.text(), first: 10 });
      if (result.__typename === 'ProgramInvalid') {
        clear(previewStatus, `The program does not compile: ${result.diagnostics.length} problem(s).`);
        return;
      }
      renderPreview(result);
    } catch (error) {
      clear(previewStatus, 'Preview failed: ', error instanceof ApiError ? error.message : String(error));
    } finally {
      previewButton.toggleAttribute('disabled', false);
    }
  }

  function renderPreview(p: Preview) {
    const c = p.changed;
    clear(
      previewStatus,
      `${p.events} event${p.events === 1 ? '' : 's'} replayed: ${c.members} member${c.members === 1 ? '' : 's'} change (${c.balance} balance, ${c.tier} tier, ${c.clubs} clubs).`,
      p.versions > 1 ? ` The history spans ${p.versions} versions; “before” replays the active one over all of it.` : '',
    );
    const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
    const money = (t: PreviewTotals) => (t.outstandingValue ? `${t.outstandingValue.amount} ${t.outstandingValue.currency}` : '—');
    const rows: [string, (t: PreviewTotals) => number | string, boolean][] = [
      ['Members', (t) => t.members, true],
      ['Earned', (t) => t.earned, true],
      ['Redeemed', (t) => t.redeemed, true],
      ['Expired', (t) => t.expired, true],
      ['Reversed', (t) => t.reversed, true],
      ['Adjusted', (t) => t.adjusted, true],
      ['Outstanding points', (t) => t.outstanding, true],
      ['Liability (at the redeem rate)', money, false],
      ['Refused events', (t) => t.errors, true],
    ];
    const totals = h(
      'table',
      { id: 'preview-totals', class: 'stack' },
      h('caption', {}, 'Totals'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'), h('th', { scope: 'col' }, 'Change'))),
      h(
        'tbody',
        {},
        rows.map(([label, get, numeric]) => {
          const a = get(p.before);
          const b = get(p.after);
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, label),
            h('td', { 'data-label': 'Before' }, a),
            h('td', { 'data-label': 'After' }, b),
            h('td', { 'data-label': 'Change' }, numeric && typeof a === 'number' && typeof b === 'number' ? signed(b - a) : a === b ? '—' : 'changed'),
          );
        }),
      ),
    );
    const name = (t: string | null | undefined) => t ?? '(no tiers)';
    const tierMatrix = h(
      'table',
      { id: 'preview-tiers', class: 'stack' },
      h('caption', {}, 'Tier movement (members by tier before → after)'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'), h('th', { scope: 'col' }, 'Members'))),
      h(
        'tbody',
        {},
        p.tierMatrix.map((m) =>
          h('tr', { class: m.from === m.to ? 'same' : 'moved' }, h('th', { scope: 'row' }, name(m.from)), h('td', { 'data-label': 'After' }, name(m.to)), h('td', { 'data-label': 'Members' }, m.members)),
        ),
      ),
    );
    const members = p.members.edges.map((e) => e.node);
    const top = members.length
      ? h(
          'table',
          { id: 'preview-members', class: 'stack' },
          h('caption', {}, `Largest changes (${members.length} of ${p.members.totalCount})`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Member'), h('th', { scope: 'col' }, 'Balance before'), h('th', { scope: 'col' }, 'Balance after'), h('th', { scope: 'col' }, 'Change'), h('th', { scope: 'col' }, 'Tier'))),
          h(
            'tbody',
            {},
            members.map((m) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row' }, h('a', { href: `#/members/${encodeURIComponent(m.id)}` }, m.id)),
                h('td', { 'data-label': 'Balance before' }, m.before.balance),
                h('td', { 'data-label': 'Balance after' }, m.after.balance),
                h('td', { 'data-label': 'Change' }, signed(m.balanceChange)),
                h('td', { 'data-label': 'Tier' }, m.before.tier === m.after.tier ? name(m.after.tier) : `${name(m.before.tier)} → ${name(m.after.tier)}`),
              ),
            ),
          ),
        )
      : h('p', {}, 'No member changes.');
    clear(previewView, h('div', { class: 'table-wrap' }, totals), h('div', { class: 'table-wrap' }, tierMatrix), h('div', { class: 'table-wrap' }, top));
  }

  // Version history and the diff between two versions (or a version and the editor).
  const history = h('ol', { class: 'versions', 'aria-label': 'Published versions, newest first' });
  const fromSelect = h('select', { id: 'diff-from' });
  const toSelect = h('select', { id: 'diff-to' });
  const diffView = h('div', { class: 'diff', id: 'diff', role: 'region', 'aria-label': 'Line diff', tabindex: '0' });
  fromSelect.addEventListener('change', () => renderDiff());
  toSelect.addEventListener('change', () => renderDiff());

  function sourceOf(choice: string): string {
    if (choice === EDITOR) return editor.text();
    return versions.find((v) => String(v.version) === choice)?.source ?? '';
  }

  function renderHistory() {
    clear(
      history,
      versions.map((v) =>
        h(
          'li',
          {},
          h('span', { class: 'version' }, `Version ${v.version}`),
          v.active ? h('span', { class: 'badge' }, 'active') : null,
          ' ',
          h('span', { class: 'meta' }, `${formatDate(v.createdAt)} · ${v.hash.slice(0, 12)}`),
          ' ',
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              onclick: () => {
                editor.setText(v.source);
                clear(message, `Loaded version ${v.version} into the editor (not published).`);
              },
            },
            'Load into editor',
          ),
        ),
      ),
    );
    const keep = [fromSelect.value, toSelect.value];
    const options = (select: HTMLSelectElement, withEditor: boolean) =>
      clear(select, withEditor ? h('option', { value: EDITOR }, 'Editor (unpublished)') : null, versions.map((v) => h('option', { value: String(v.version) }, `Version ${v.version}${v.active ? ' (active)' : ''}`)));
    options(fromSelect, false);
    options(toSelect, true);
    fromSelect.value = keep[0] && [...fromSelect.options].some((o) => o.value === keep[0]) ? keep[0] : String(versions[1]?.version ?? versions[0]?.version ?? '');
    toSelect.value = keep[1] && [...toSelect.options].some((o) => o.value === keep[1]) ? keep[1] : versions.length > 1 ? String(versions[0]!.version) : EDITOR;
  }

  function renderDiff() {
    if (!versions.length) return clear(diffView, h('p', {}, 'No versions yet.'));
    const lines = lineDiff(sourceOf(fromSelect.value), sourceOf(toSelect.value));
    const { added, removed } = diffStats(lines);
    clear(
      diffView,
      h('p', { class: 'meta' }, added || removed ? `${added} added, ${removed} removed` : 'No differences.'),
      h(
        'pre',
        {},
        withContext(lines).map((l) =>
          l.kind === 'skip'
            ? h('span', { class: 'diff-line fold' }, `   ⋯ ${l.count} unchanged line${l.count === 1 ? '' : 's'}\n`)
            : h(
                'span',
                { class: `diff-line ${l.kind}` },
                h('span', { class: 'gutter', 'aria-hidden': 'true' }, `${l.oldLine ?? ''}`.padStart(4), `${l.newLine ?? ''}`.padStart(5), ' '),
                h('span', { class: 'sign' }, l.kind === 'add' ? '+' : l.kind === 'del' ? '−' : ' '),
                h('span', { class: 'sr-only' }, l.kind === 'add' ? 'added: ' : l.kind === 'del' ? 'removed: ' : ''),
                ` ${l.text}\n`,
              ),
        ),
      ),
    );
  }

  clear(
    main,
    h('header', { class: 'page-header' }, heading, meta),
    h(
      'section',
      { 'aria-labelledby': 'editor-title', class: 'card' },
      h('h2', { id: 'editor-title' }, 'Program source'),
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Program actions' }, formatButton, revertButton, publishButton),
      editorHost,
      h('p', { class: 'meta keys', id: 'editor-keys' }, 'Keys: Tab leaves the editor · Ctrl-Space completes · F8 goes to the next problem · Ctrl-Shift-M lists the problems · Ctrl-Z undoes.'),
      status,
      problems,
      message,
    ),
    h(
      'section',
      { 'aria-labelledby': 'preview-title', class: 'card', id: 'preview' },
      h('h2', { id: 'preview-title' }, 'Preview against real history'),
      h(
        'p',
        { class: 'meta' },
        'Replays every recorded event under the active version and under the editor’s text, and compares them. Nothing is written. “Before” is the active version over the whole history.',
      ),
      h('div', { class: 'toolbar' }, previewButton),
      previewStatus,
      previewView,
    ),
    h(
      'section',
      { 'aria-labelledby': 'history-title', class: 'card' },
      h('h2', { id: 'history-title' }, 'Version history'),
      history,
      h('h3', {}, 'Compare'),
      h('div', { class: 'compare' }, h('label', { for: 'diff-from' }, 'Compare from'), fromSelect, h('label', { for: 'diff-to' }, 'to'), toSelect),
      diffView,
    ),
  );
  renderHistory();
  refresh();
}
