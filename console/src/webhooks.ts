// The webhooks page (admin keys): the merchant's endpoints (URL, the types
// they receive, enabled) with add, enable/disable and delete, and the recent
// deliveries (status, attempts, the last response, the notification) with
// "Resend" (redeliver). A key of a narrower scope gets a message saying so.
import { ApiError, gql } from './api.ts';
import { clear, formatDate, h } from './dom.ts';
import {
  ConsoleCreateEndpointDocument,
  ConsoleDeleteEndpointDocument,
  ConsoleRedeliverDocument,
  ConsoleSetEndpointEnabledDocument,
  ConsoleWebhooksDocument,
  type ConsoleDeliveryFragment,
  type ConsoleEndpointFragment,
  type DeliveryStatus,
  type NotificationType,
} from './generated/operations.ts';

/** Deliveries listed (the API gives at most 100). */
const RECENT = 25;

/** Every notification type, with its dotted name on the wire (docs/webhooks.md). */
const TYPES: NotificationType[] = [
  'MEMBER_SIGNED_UP',
  'POINTS_EARNED',
  'POINTS_REDEEMED',
  'POINTS_REVERSED',
  'POINTS_EXPIRED',
  'POINTS_ADJUSTED',
  'TIER_CHANGED',
  'CLUB_JOINED',
  'CLUB_ENDED',
  'BIRTHDAY_BONUS',
  'REFERRAL_REWARDED',
];

/** `POINTS_EARNED` → `points.earned`. */
export function wireName(type: NotificationType): string {
  const [head, ...rest] = type.toLowerCase().split('_');
  return `${head}.${rest.join('_')}`;
}

const STATUS: Record<DeliveryStatus, string> = { DELIVERED: 'Delivered', PENDING: 'Pending', FAILED: 'Failed' };

export async function webhooksPage(main: HTMLElement): Promise<void> {
  let data;
  try {
    data = await gql(ConsoleWebhooksDocument, { first: RECENT });
  } catch (error) {
    if (error instanceof ApiError && error.code === 'FORBIDDEN') {
      clear(
        main,
        h('header', { class: 'page-header' }, h('h1', { id: 'page-title', tabindex: '-1' }, 'Webhooks')),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'scope-title' },
          h('h2', { id: 'scope-title' }, 'This page needs an admin key'),
          h('p', { role: 'alert', id: 'scope-message' }, 'The key you signed in with may not manage webhooks: endpoints and deliveries are for admin keys only. Sign out and sign in with an admin key of this merchant (npm run key creates one).'),
        ),
      );
      return;
    }
    throw error;
  }

  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', id: 'webhooks-message' });
  const endpointRows = h('tbody');
  const noEndpoints = h('p', { class: 'meta', id: 'no-endpoints' }, 'No endpoints yet: add one below.');
  const deliveryRows = h('tbody');
  const noDeliveries = h('p', { class: 'meta', id: 'no-deliveries' }, 'No deliveries yet: they appear here after a write, once an endpoint is enabled.');
  const say = (...text: (string | Node)[]) => clear(message, ...text);
  const failed = (what: string) => (error: unknown) => say(h('strong', { class: 'error' }, `${what}: `), error instanceof Error ? error.message : String(error));

  function showEndpoints(endpoints: ConsoleEndpointFragment[]): void {
    clear(endpointRows, ...endpoints.map(endpointRow));
    noEndpoints.hidden = endpoints.length > 0;
  }
  function showDeliveries(deliveries: ConsoleDeliveryFragment[]): void {
    clear(deliveryRows, ...deliveries.map(deliveryRow));
    noDeliveries.hidden = deliveries.length > 0;
  }
  async function reload(): Promise<void> {
    const fresh = await gql(ConsoleWebhooksDocument, { first: RECENT });
    showEndpoints(fresh.webhookEndpoints);
    showDeliveries(fresh.webhookDeliveries);
  }

  function endpointRow(e: ConsoleEndpointFragment): HTMLTableRowElement {
    const toggle = h('button', { type: 'button', 'aria-label': `${e.enabled ? 'Disable' : 'Enable'} ${e.url}` }, e.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', () => {
      toggle.disabled = true;
      gql(ConsoleSetEndpointEnabledDocument, { id: e.id, enabled: !e.enabled })
        .then(async ({ updateWebhookEndpoint: u }) => {
          await reload();
          say(`${u.url} is ${u.enabled ? 'enabled' : 'disabled'}.`);
          (endpointRows.querySelector(`button[aria-label$="${CSS.escape(u.url)}"]`) as HTMLButtonElement | null)?.focus();
        })
        .catch(failed('Not changed'))
        .finally(() => (toggle.disabled = false));
    });
    const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${e.url}` }, 'Delete');
    remove.addEventListener('click', () => confirmDelete(e, remove));
    return h(
      'tr',
      {},
      h('th', { scope: 'row', class: 'url' }, e.url),
      h('td', { 'data-label': 'Types' }, e.types.length ? e.types.map(wireName).join(', ') : 'every type'),
      h('td', { 'data-label': 'Enabled' }, h('span', { class: e.enabled ? 'badge ok' : 'badge off' }, e.enabled ? 'Enabled' : 'Disabled')),
      h('td', { 'data-label': 'Actions' }, h('div', { class: 'actions-cell' }, toggle, remove)),
    );
  }

  const dialog = h('dialog', { id: 'delete-dialog', 'aria-labelledby': 'delete-title' });
  document.body.querySelector('#delete-dialog')?.remove();
  document.body.append(dialog);
  function confirmDelete(e: ConsoleEndpointFragment, opener: HTMLButtonElement): void {
    clear(
      dialog,
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'delete-title' }, 'Delete this endpoint?'),
        h('p', {}, h('code', { class: 'url' }, e.url), ' and its deliveries are deleted; pending ones are not sent.'),
        h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'cancel', id: 'cancel-delete' }, 'Cancel'), h('button', { type: 'submit', value: 'delete', class: 'primary danger' }, 'Delete endpoint')),
      ),
    );
    dialog.returnValue = '';
    dialog.showModal();
    (dialog.querySelector('#cancel-delete') as HTMLButtonElement).focus();
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue !== 'delete') return opener.focus();
        gql(ConsoleDeleteEndpointDocument, { id: e.id })
          .then(async () => {
            await reload();
            say(`Deleted ${e.url}.`);
            url.focus();
          })
          .catch(failed('Not deleted'));
      },
      { once: true },
    );
  }

  function deliveryRow(d: ConsoleDeliveryFragment): HTMLTableRowElement {
    const resend = h('button', { type: 'button', 'aria-label': `Resend ${wireName(d.notification.type)} for ${d.notification.memberId} to ${d.endpoint.url}` }, 'Resend');
    resend.addEventListener('click', () => {
      resend.disabled = true;
      gql(ConsoleRedeliverDocument, { deliveryId: d.id })
        .then(async () => {
          await reload();
          say(`Sent again: ${wireName(d.notification.type)} for ${d.notification.memberId} is pending for ${d.endpoint.url}.`);
        })
        .catch(failed('Not resent'))
        .finally(() => (resend.disabled = false));
    });
    const response = d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.lastError ? 'no response' : '—';
    return h(
      'tr',
      { 'data-status': d.status },
      h('th', { scope: 'row' }, h('span', { class: `badge ${d.status.toLowerCase()}` }, STATUS[d.status])),
      h('td', { 'data-label': 'Notification' }, wireName(d.notification.type)),
      h('td', { 'data-label': 'Member' }, h('a', { href: `#/members/${encodeURIComponent(d.notification.memberId)}` }, d.notification.memberId)),
      h('td', { 'data-label': 'Endpoint', class: 'url' }, d.endpoint.url),
      h('td', { 'data-label': 'Attempts', class: 'num' }, d.attempts),
      h('td', { 'data-label': 'Last response', class: 'nowrap', title: d.lastError ?? undefined }, response),
      h('td', { 'data-label': 'Time' }, formatDate(d.deliveredAt ?? d.lastAttemptAt ?? d.notification.created)),
      h('td', { 'data-label': 'Action' }, resend),
    );
  }

  // Adding an endpoint: its URL and the types it receives (none ticked: every type).
  const url = h('input', { id: 'endpoint-url', name: 'url', type: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/loyalty-hooks', 'aria-describedby': 'endpoint-url-help' });
  const boxes = TYPES.map((t) => h('input', { type: 'checkbox', name: 'types', value: t, id: `type-${t}` }));
  const addForm = h(
    'form',
    {
      class: 'add-endpoint',
      'aria-label': 'Add an endpoint',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const types = boxes.filter((b) => b.checked).map((b) => b.value as NotificationType);
        gql(ConsoleCreateEndpointDocument, { url: url.value.trim(), types })
          .then(async ({ createWebhookEndpoint: e }) => {
            url.value = '';
            for (const b of boxes) b.checked = false;
            await reload();
            adding.open = false;
            say(`Added ${e.url}: it receives ${e.types.length ? e.types.map(wireName).join(', ') : 'every type'} from now on.`);
          })
          .catch((error: unknown) => {
            failed('Not added')(error);
            url.focus();
          });
      },
    },
    h('label', { for: 'endpoint-url' }, 'Endpoint URL'),
    url,
    h('p', { id: 'endpoint-url-help', class: 'meta' }, 'An http(s) URL. Each notification is POSTed to it, signed with the endpoint’s secret (the Loyalty-Signature header).'),
    h(
      'fieldset',
      { class: 'types' },
      h('legend', {}, 'Notification types (none ticked: every type)'),
      TYPES.map((t, i) => h('label', { class: 'check', for: `type-${t}` }, boxes[i]!, wireName(t))),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Add endpoint'),
  );

  // Folded once there are endpoints, so the deliveries are in view.
  const adding = h('details', { class: 'adding', open: data.webhookEndpoints.length === 0 }, h('summary', {}, 'Add an endpoint'), addForm);

  const refresh = h('button', { type: 'button', id: 'refresh-deliveries' }, 'Refresh');
  refresh.addEventListener('click', () => {
    reload()
      .then(() => say('Deliveries refreshed.'))
      .catch(failed('Not refreshed'));
  });

  const th = (label: string, cls?: string) => h('th', { scope: 'col', class: cls }, label);
  clear(
    main,
    h('header', { class: 'page-header' }, h('h1', { id: 'page-title', tabindex: '-1' }, 'Webhooks'), h('p', { class: 'meta' }, 'Where this merchant’s notifications are sent, and how their deliveries went.')),
    message,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'endpoints-title' },
      h('h2', { id: 'endpoints-title' }, 'Endpoints'),
      noEndpoints,
      h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'endpoints' }, h('thead', {}, h('tr', {}, th('URL'), th('Types'), th('Enabled'), th('Actions'))), endpointRows)),
      adding,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'deliveries-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'deliveries-title' }, 'Recent deliveries'), refresh),
      noDeliveries,
      h(
        'div',
        { class: 'table-wrap' },
        h('table', { class: 'stack', id: 'deliveries' }, h('thead', {}, h('tr', {}, th('Status'), th('Notification'), th('Member'), th('Endpoint'), th('Attempts', 'num'), th('Last response'), th('Time'), th('Action'))), deliveryRows),
      ),
    ),
  );
  showEndpoints(data.webhookEndpoints);
  showDeliveries(data.webhookDeliveries);
}
