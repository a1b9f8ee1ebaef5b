// The webhooks of the selected session: register, edit, enable/disable, test, remove; the newest
// deliveries with their status, attempts and answer, and redeliver. It asks the server by running the
// operations themselves (no introspection, which production servers turn off).

import { $, button, el, errorText } from './dom.js';
import { gql, GraphQLRequestError } from './graphql.js';

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastResponseCode: number | null;
  lastError: string | null;
  createdAt: string;
}

interface Webhook {
  id: string;
  url: string;
  events: string[];
  allEvents: boolean;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  deliveryCounts: { pending: number; succeeded: number; failed: number };
  deliveries: Delivery[];
}

const EVENT_TYPES = ['MESSAGE', 'ACK', 'STATUS', 'QR', 'AUTHENTICATED', 'READY', 'DISCONNECTED', 'GROUP_JOIN', 'GROUP_LEAVE'];
const WEBHOOK_FIELDS =
  'id url events allEvents enabled disabledReason failingSince deliveryCounts { pending succeeded failed } deliveries(last: 10) { id event status attempts lastResponseCode lastError createdAt }';
const REFRESH_MS = 3000;

export class WebhooksPanel {
  private sessionId: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private loading = false;
  /** A load asked for while one ran: it runs again after, so an action's outcome is never missed. */
  private again = false;
  /** The outcome of the last action on each webhook, kept across the panel's refreshes. */
  private readonly results = new Map<string, { text: string; error: boolean }>();

  constructor() {
    const boxes = $('webhook-events');
    for (const type of EVENT_TYPES) {
      const label = el('label');
      const box = el('input');
      box.type = 'checkbox';
      box.value = type;
      label.append(box, ` ${type.toLowerCase()}`);
      boxes.append(label);
    }
    $('webhook-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    $('webhook-cancel').addEventListener('click', () => this.resetForm());
    $('webhooks-refresh').addEventListener('click', () => void this.load());
  }

  /** Shows this session's webhooks; `visible` says whether the panel is on screen (it refreshes itself then). */
  open(sessionId: string, visible: boolean): void {
    if (this.sessionId !== sessionId) {
      this.sessionId = sessionId;
      this.results.clear();
      this.resetForm();
      $('webhook-secret').hidden = true;
      $('webhooks').replaceChildren(el('p', 'Loading…', 'muted'));
    }
    this.setVisible(visible);
  }

  close(): void {
    this.sessionId = null;
    this.setVisible(false);
  }

  setVisible(visible: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!visible || !this.sessionId) return;
    void this.load();
    this.timer = setInterval(() => void this.load(), REFRESH_MS);
  }

  private async load(): Promise<void> {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    try {
      const data = await gql<{ webhooks: Webhook[] }>(`query($id: String!) { webhooks(sessionId: $id) { ${WEBHOOK_FIELDS} } }`, { id: sessionId });
      if (this.sessionId === sessionId) this.render(data.webhooks);
    } catch (error) {
      if (this.sessionId !== sessionId) return;
      // An older server without these fields answers a validation error: say so instead of failing.
      const missing = error instanceof GraphQLRequestError && error.code === 'VALIDATION_ERROR' && /Cannot query field/.test(error.message);
      $('webhooks').replaceChildren(el('p', missing ? 'This server has no webhooks API.' : errorText(error), missing ? 'muted' : 'error'));
    } finally {
      this.loading = false;
      if (this.again) {
        this.again = false;
        void this.load();
      }
    }
  }

  private render(hooks: Webhook[]): void {
    const box = $('webhooks');
    if (hooks.length === 0) {
      box.replaceChildren(el('p', 'No webhooks yet: register one below.', 'muted'));
      return;
    }
    box.replaceChildren(...hooks.map((hook) => this.card(hook)));
  }

  private card(hook: Webhook): HTMLElement {
    const card = el('article', undefined, 'webhook');
    card.dataset.webhookId = hook.id;
    const head = el('div', undefined, 'row between wrap');
    head.append(el('strong', hook.url, 'url'), el('span', hook.enabled ? 'enabled' : `disabled${hook.disabledReason ? `: ${hook.disabledReason}` : ''}`, `pill ${hook.enabled ? 'READY' : 'FAILED'}`));
    const counts = hook.deliveryCounts;
    const info = el('p', `${hook.allEvents ? 'every event' : hook.events.map((e) => e.toLowerCase()).join(', ')} · ${counts.succeeded} delivered, ${counts.pending} pending, ${counts.failed} failed${hook.failingSince ? ` · failing since ${new Date(hook.failingSince).toLocaleTimeString()}` : ''}`, 'muted');
    const last = this.results.get(hook.id);
    const result = el('p', last?.text ?? '', `result${last?.error ? ' error' : ''}`);
    result.setAttribute('role', 'status');
    const actions = el('div', undefined, 'row wrap');
    actions.append(
      button('Send test', () => void this.act(hook.id, result, 'sending a test delivery', () => this.test(hook))),
      button(hook.enabled ? 'Disable' : 'Enable', () => void this.act(hook.id, result, 'saving', () => this.update(hook.id, { enabled: !hook.enabled }))),
      button('Edit', () => this.edit(hook)),
      button('Remove', () => {
        if (confirm(`Remove the webhook to ${hook.url}? Its deliveries go too.`)) void this.act(hook.id, result, 'removing', () => this.remove(hook.id));
      }, 'danger'),
    );
    card.append(head, info, actions, result, this.deliveries(hook, result));
    return card;
  }

  private deliveries(hook: Webhook, result: HTMLElement): HTMLElement {
    if (hook.deliveries.length === 0) return el('p', 'No deliveries yet.', 'muted');
    const wrap = el('div', undefined, 'table-wrap');
    const table = el('table');
    table.setAttribute('aria-label', `Deliveries to ${hook.url}`);
    const head = el('tr');
    for (const h of ['time', 'event', 'status', 'attempts', 'answer', '']) head.append(el('th', h));
    table.append(head);
    for (const d of [...hook.deliveries].reverse()) {
      const row = el('tr');
      row.dataset.deliveryId = d.id;
      const redeliver = el('td');
      redeliver.append(button('Redeliver', () => void this.act(hook.id, result, 'redelivering', () => this.redeliver(d.id)), 'small'));
      row.append(
        el('td', new Date(d.createdAt).toLocaleTimeString()),
        el('td', d.event),
        el('td', d.status.toLowerCase(), `status ${d.status}`),
        el('td', String(d.attempts)),
        el('td', d.lastResponseCode ? `HTTP ${d.lastResponseCode}` : (d.lastError ?? '—')),
        redeliver,
      );
      table.append(row);
    }
    wrap.append(table);
    return wrap;
  }

  private async act(webhookId: string, result: HTMLElement, doing: string, run: () => Promise<string>): Promise<void> {
    result.textContent = `${doing}…`;
    result.className = 'result';
    try {
      this.results.set(webhookId, { text: await run(), error: false });
    } catch (error) {
      this.results.set(webhookId, { text: errorText(error), error: true });
    }
    await this.load();
  }

  private async test(hook: Webhook): Promise<string> {
    const { testWebhook: d } = await gql<{ testWebhook: Delivery }>('mutation($s: String!, $w: ID!) { testWebhook(sessionId: $s, webhookId: $w) { id event status attempts lastResponseCode lastError createdAt } }', {
      s: this.sessionId,
      w: hook.id,
    });
    return `test delivery: ${d.status.toLowerCase()}${d.lastResponseCode ? `, HTTP ${d.lastResponseCode}` : d.lastError ? `, ${d.lastError}` : ''}`;
  }

  private async update(webhookId: string, change: Record<string, unknown>): Promise<string> {
    await gql('mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }', { input: { sessionId: this.sessionId, webhookId, ...change } });
    return 'saved';
  }

  private async remove(webhookId: string): Promise<string> {
    await gql('mutation($s: String!, $w: ID!) { removeWebhook(sessionId: $s, webhookId: $w) { removed } }', { s: this.sessionId, w: webhookId });
    return 'removed';
  }

  private async redeliver(deliveryId: string): Promise<string> {
    const { redeliver } = await gql<{ redeliver: Delivery }>('mutation($id: ID!) { redeliver(deliveryId: $id) { id status attempts } }', { id: deliveryId });
    return `redelivery queued (${redeliver.status.toLowerCase()})`;
  }

  private edit(hook: Webhook): void {
    $<HTMLInputElement>('webhook-id').value = hook.id;
    $<HTMLInputElement>('webhook-url').value = hook.url;
    for (const box of $('webhook-events').querySelectorAll('input')) box.checked = !hook.allEvents && hook.events.includes(box.value);
    $('webhook-form-title').textContent = 'Edit the webhook';
    $('webhook-save').textContent = 'Save';
    $('webhook-cancel').hidden = false;
    $('webhook-url').focus();
  }

  private resetForm(): void {
    $<HTMLFormElement>('webhook-form').reset();
    $<HTMLInputElement>('webhook-id').value = '';
    $('webhook-form-title').textContent = 'Register a webhook';
    $('webhook-save').textContent = 'Register';
    $('webhook-cancel').hidden = true;
    $('webhook-error').textContent = '';
  }

  private async save(): Promise<void> {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    const webhookId = $<HTMLInputElement>('webhook-id').value;
    const url = $<HTMLInputElement>('webhook-url').value.trim();
    const events = [...$('webhook-events').querySelectorAll('input')].filter((b) => b.checked).map((b) => b.value);
    $('webhook-error').textContent = '';
    const secret = $('webhook-secret');
    try {
      if (webhookId) {
        await this.update(webhookId, { url, events });
        secret.hidden = true;
      } else {
        const { registerWebhook } = await gql<{ registerWebhook: { secret: string } }>(
          'mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret webhook { id } } }',
          { input: { sessionId, url, events } },
        );
        secret.replaceChildren('Signing secret (shown only now; the receiver checks signatures with it): ', el('code', registerWebhook.secret));
        secret.hidden = false;
      }
      this.resetForm();
      await this.load();
    } catch (error) {
      $('webhook-error').textContent = errorText(error);
    }
  }
}
