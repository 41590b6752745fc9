// The merchant console: sign in with an API key (kept in sessionStorage for
// this tab only, never in a URL), then the program, members and webhooks
// pages, routed by the URL's hash (#/program, #/members, #/members/ID,
// #/webhooks) so the server serves one static page.
import './style.css';
import { ApiError, gql, session } from './api.ts';
import { clear, h } from './dom.ts';
import { ConsoleMerchantDocument } from './generated/operations.ts';
import { memberPage, membersPage } from './members.ts';
import { programPage } from './program.ts';
import { webhooksPage } from './webhooks.ts';

const app = document.getElementById('app')!;

function signInPage(problem?: string): void {
  const input = h('input', { id: 'api-key', name: 'key', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'key-help' });
  const error = h('p', { class: 'error', role: 'alert', id: 'sign-in-error' }, problem ?? '');
  const form = h(
    'form',
    {
      class: 'card sign-in',
      'aria-labelledby': 'sign-in-title',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const key = input.value.trim();
        try {
          await gql(ConsoleMerchantDocument, {}, key);
          session.signIn(key);
          if (!location.hash || location.hash === '#/') location.hash = '#/program';
          void route();
        } catch (e) {
          clear(error, e instanceof ApiError && e.status === 401 ? `That key was refused: ${e.message}` : `Could not sign in: ${e instanceof Error ? e.message : String(e)}`);
          input.focus();
        }
      },
    },
    h('h1', { id: 'sign-in-title' }, 'Loyalty console'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('p', { id: 'key-help', class: 'meta' }, 'An admin or write key of your merchant (npm start prints the demo key). It is kept in this browser tab only and sent with each request.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  clear(app, h('main', { id: 'main', class: 'narrow' }, form));
  input.focus();
}

let merchantName: string | null = null;

type Page = 'program' | 'members' | 'webhooks';

function shell(current: Page): HTMLElement {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const link = (href: string, label: string, key: typeof current) => h('a', { href, 'aria-current': current === key ? 'page' : null }, label);
  clear(
    app,
    h('a', { href: '#main', class: 'skip-link', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, 'Skip to content'),
    h(
      'header',
      { class: 'top' },
      h('span', { class: 'brand' }, 'Loyalty console', merchantName ? h('span', { class: 'merchant' }, ` · ${merchantName}`) : null),
      h('nav', { 'aria-label': 'Console' }, link('#/program', 'Program', 'program'), link('#/members', 'Members', 'members'), link('#/webhooks', 'Webhooks', 'webhooks')),
      h(
        'button',
        {
          type: 'button',
          id: 'sign-out',
          onclick: () => {
            session.signOut();
            merchantName = null;
            location.hash = '';
            signInPage();
          },
        },
        'Sign out',
      ),
    ),
    main,
  );
  return main;
}

async function route(): Promise<void> {
  if (!session.key()) return signInPage();
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const page: Page = parts[0] === 'members' ? 'members' : parts[0] === 'webhooks' ? 'webhooks' : 'program';
  try {
    if (merchantName === null) merchantName = (await gql(ConsoleMerchantDocument, {})).merchant.name;
    const main = shell(page);
    main.append(h('p', { class: 'meta', role: 'status' }, 'Loading…'));
    if (page === 'members' && parts[1]) await memberPage(main, decodeURIComponent(parts.slice(1).join('/')));
    else if (page === 'members') await membersPage(main, new URLSearchParams(query));
    else if (page === 'webhooks') await webhooksPage(main);
    else await programPage(main);
    document.title = `${document.getElementById('page-title')?.textContent ?? 'Console'} · Loyalty console`;
    document.getElementById('page-title')?.focus({ preventScroll: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      session.signOut();
      merchantName = null;
      return signInPage('Your key is no longer accepted: sign in again.');
    }
    const main = document.getElementById('main') ?? shell(page);
    clear(main, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, error instanceof Error ? error.message : String(error)));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
