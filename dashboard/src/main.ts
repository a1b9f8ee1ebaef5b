// The dashboard: sessions with live status, the login QR, a chat view and webhooks, all through the
// public GraphQL API (fetch for queries and mutations, graphql-ws for live updates).

import { apiKey, gql, GraphQLRequestError, onUnauthenticated } from './graphql.js';
import { WsClient } from './ws.js';

type Status = 'INITIALIZING' | 'QR_READY' | 'AUTHENTICATED' | 'READY' | 'FAILED' | 'TERMINATED';

interface SessionRow {
  sessionId: string;
  status: Status;
  engine: string;
  failureReason: string | null;
  me: { id: string } | null;
}

interface Message {
  id: string;
  chatId: string;
  body: string | null;
  caption: string | null;
  type: string;
  fromMe: boolean;
  timestamp: number;
  ack: string | null;
}

const SESSION_FIELDS = 'sessionId status engine failureReason me { id }';
const MESSAGE_FIELDS = 'id chatId body caption type fromMe timestamp ack';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};
const errorText = (error: unknown) => (error instanceof GraphQLRequestError ? `${error.code}: ${error.message}` : String(error));

const ws = new WsClient(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`, (state) => {
  const pill = $('connection');
  pill.textContent = state;
  pill.className = `pill ${state}`;
});

const sessions = new Map<string, SessionRow & { unsubscribe: () => void }>();
let selected: string | null = null;
/** Subscriptions of the selected session (QR, chat messages); dropped when the selection changes. */
let detailSubs: (() => void)[] = [];
let chatSub: (() => void) | null = null;
let chatId = '15550000001@c.us';
/** The messages shown in the chat view, by id, so acks can update their line. */
const shownMessages = new Map<string, { message: Message; meta: HTMLElement }>();

// ---- API key -------------------------------------------------------------------------------

const keyDialog = $<HTMLDialogElement>('key-dialog');
function askForKey(reason: string): void {
  $('key-reason').textContent = reason;
  $<HTMLInputElement>('api-key').value = apiKey.get() ?? '';
  if (!keyDialog.open) keyDialog.showModal();
}
onUnauthenticated(() => askForKey(apiKey.get() ? 'The server refused this API key. Enter another one.' : 'This server asks for an API key.'));
$('key-button').addEventListener('click', () => askForKey('The key is kept in this browser (localStorage) and sent as X-Api-Key.'));
$('key-form').addEventListener('submit', () => {
  apiKey.set($<HTMLInputElement>('api-key').value.trim() || null);
  ws.reconnect();
  void refreshSessions();
});
$('key-clear').addEventListener('click', () => {
  apiKey.set(null);
  keyDialog.close();
});

// ---- session list --------------------------------------------------------------------------

function renderList(): void {
  const list = $('sessions');
  list.replaceChildren();
  for (const s of sessions.values()) {
    const li = el('li');
    li.dataset.session = s.sessionId;
    if (s.sessionId === selected) li.classList.add('selected');
    li.append(el('span', s.sessionId), el('span', s.status, `pill status ${s.status}`));
    li.addEventListener('click', () => select(s.sessionId));
    list.append(li);
  }
  $('no-sessions').hidden = sessions.size > 0;
}

function track(row: SessionRow): void {
  const known = sessions.get(row.sessionId);
  if (known) {
    Object.assign(known, row);
    return;
  }
  const entry = { ...row, unsubscribe: () => {} };
  sessions.set(row.sessionId, entry);
  entry.unsubscribe = ws.subscribe<{ sessionStatus: { status: Status; reason: string | null } }>(
    'subscription($id: String!) { sessionStatus(sessionId: $id) { status reason } }',
    { id: row.sessionId },
    {
      next: ({ sessionStatus }) => {
        const previous = entry.status;
        entry.status = sessionStatus.status;
        entry.failureReason = sessionStatus.reason;
        if (sessionStatus.status === 'TERMINATED') {
          sessions.delete(row.sessionId);
          if (selected === row.sessionId) select(null);
        }
        renderList();
        if (selected === row.sessionId && previous !== entry.status) void showDetail();
      },
      error: () => {
        // The session is gone (removed elsewhere): drop it.
        sessions.delete(row.sessionId);
        if (selected === row.sessionId) select(null);
        renderList();
      },
    },
  );
}

async function refreshSessions(): Promise<void> {
  try {
    const { sessions: rows, serverInfo } = await gql<{ sessions: SessionRow[]; serverInfo: { version: string; maxSessions: number } }>(
      `{ sessions { ${SESSION_FIELDS} } serverInfo { version maxSessions } }`,
    );
    $('server-info').textContent = `v${serverInfo.version} · up to ${serverInfo.maxSessions} sessions`;
    const ids = new Set(rows.map((r) => r.sessionId));
    for (const [id, s] of sessions) {
      if (!ids.has(id)) {
        s.unsubscribe();
        sessions.delete(id);
      }
    }
    for (const row of rows) track(row);
    renderList();
  } catch (error) {
    $('server-info').textContent = errorText(error);
  }
}

$('new-session').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('new-session-id');
  const autoScan = $<HTMLInputElement>('new-session-autoscan').checked;
  $('new-session-error').textContent = '';
  gql<{ createSession: { session: SessionRow } }>(
    `mutation($input: CreateSessionInput!) { createSession(input: $input) { session { ${SESSION_FIELDS} } } }`,
    { input: { sessionId: input.value.trim(), ...(autoScan ? { config: { sandbox: { autoScanMs: 3000 } } } : {}) } },
  ).then(
    ({ createSession }) => {
      input.value = '';
      track(createSession.session);
      renderList();
      select(createSession.session.sessionId);
    },
    (error: unknown) => ($('new-session-error').textContent = errorText(error)),
  );
});

// ---- the selected session ------------------------------------------------------------------

function select(sessionId: string | null): void {
  if (selected !== sessionId) {
    for (const off of detailSubs) off();
    detailSubs = [];
    chatSub?.();
    chatSub = null;
  }
  selected = sessionId;
  renderList();
  $('detail').hidden = sessionId === null;
  if (sessionId) void showDetail();
}

async function showDetail(): Promise<void> {
  const s = selected ? sessions.get(selected) : undefined;
  if (!s) return;
  $('detail-id').textContent = s.sessionId;
  const pill = $('detail-status');
  pill.textContent = s.status;
  pill.className = `pill ${s.status}`;
  $('detail-engine').textContent = s.engine;
  $('detail-reason').textContent = s.failureReason ?? '';
  showQr(s);
  if (s.status === 'READY') {
    if (!s.me) {
      const data = await gql<{ session: SessionRow | null }>(`query($id: String!) { session(sessionId: $id) { ${SESSION_FIELDS} } }`, { id: s.sessionId }).catch(() => null);
      if (data?.session) Object.assign(s, data.session);
    }
    $('detail-me').textContent = s.me ? `as ${s.me.id}` : '';
    $('chat-panel').hidden = false;
    if (!chatSub) openChat(chatId);
  } else {
    $('detail-me').textContent = '';
    $('chat-panel').hidden = true;
    chatSub?.();
    chatSub = null;
  }
  void loadWebhooks(s.sessionId);
}

function showQr(s: SessionRow): void {
  const panel = $('qr-panel');
  const wanted = s.status === 'QR_READY' || s.status === 'INITIALIZING';
  panel.hidden = s.status !== 'QR_READY';
  if (!wanted || detailSubs.length > 0) return;
  $('scan-error').textContent = '';
  detailSubs.push(
    ws.subscribe<{ qr: { dataUrl: string; expiresAt: string } }>(
      'subscription($id: String!) { qr(sessionId: $id) { dataUrl expiresAt } }',
      { id: s.sessionId },
      {
        next: ({ qr }) => {
          $<HTMLImageElement>('qr').src = qr.dataUrl;
          $('qr-expires').textContent = new Date(qr.expiresAt).toLocaleTimeString();
          if (sessions.get(s.sessionId)?.status === 'QR_READY') panel.hidden = false;
        },
        error: (message) => ($('scan-error').textContent = message),
      },
    ),
  );
}

$('scan').addEventListener('click', () => {
  if (!selected) return;
  gql('mutation($id: String!) { sandboxScanQr(sessionId: $id) { sessionId status } }', { id: selected }).catch(
    (error: unknown) => ($('scan-error').textContent = errorText(error)),
  );
});

$('remove-session').addEventListener('click', () => {
  if (!selected || !confirm(`Remove session ${selected} and everything stored for it?`)) return;
  gql('mutation($id: String!) { removeSession(sessionId: $id) { removed } }', { id: selected }).catch((error: unknown) => alert(errorText(error)));
});

// ---- chat ----------------------------------------------------------------------------------

const metaText = (m: Message) => `${new Date(m.timestamp * 1000).toLocaleTimeString()}${m.fromMe && m.ack ? ` · ${m.ack.toLowerCase()}` : ''}`;

function addMessage(m: Message): void {
  if (m.chatId !== chatId || shownMessages.has(m.id)) return;
  const li = el('li', m.body ?? m.caption ?? `[${m.type.toLowerCase()}]`, m.fromMe ? 'out' : 'in');
  li.dataset.messageId = m.id;
  const meta = el('span', metaText(m), 'meta');
  li.append(meta);
  shownMessages.set(m.id, { message: m, meta });
  const list = $('messages');
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function openChat(id: string): void {
  const sessionId = selected;
  if (!sessionId) return;
  chatId = id;
  chatSub?.();
  shownMessages.clear();
  const offAcks = ws.subscribe<{ ack: { messageId: string; ack: string } }>(
    'subscription($id: String!) { ack(sessionId: $id) { messageId ack } }',
    { id: sessionId },
    {
      next: ({ ack }) => {
        const shown = shownMessages.get(ack.messageId);
        if (!shown) return;
        shown.message.ack = ack.ack;
        shown.meta.textContent = metaText(shown.message);
      },
    },
  );
  $('messages').replaceChildren();
  $('chat-error').textContent = '';
  // Subscribe first, then load the history, so nothing falls between the two (duplicates are skipped).
  const offMessages = ws.subscribe<{ message: Message }>(
    `subscription($id: String!, $chat: String) { message(sessionId: $id, chatId: $chat) { ${MESSAGE_FIELDS} } }`,
    { id: sessionId, chat: id },
    { next: ({ message }) => addMessage(message), error: (message) => ($('chat-error').textContent = message) },
  );
  chatSub = () => {
    offMessages();
    offAcks();
  };
  gql<{ session: { chat: { messages: { edges: { node: Message }[] } } | null } | null }>(
    `query($id: String!, $chat: String!) { session(sessionId: $id) { chat(chatId: $chat) { messages(last: 20) { edges { node { ${MESSAGE_FIELDS} } } } } } }`,
    { id: sessionId, chat: id },
  ).then(
    (data) => {
      for (const edge of data.session?.chat?.messages.edges ?? []) addMessage(edge.node);
    },
    (error: unknown) => ($('chat-error').textContent = errorText(error)),
  );
  gql<{ session: { chats: { edges: { node: { id: string; name: string | null } }[] } } | null }>(
    'query($id: String!) { session(sessionId: $id) { chats(first: 50) { edges { node { id name } } } } }',
    { id: sessionId },
  ).then(
    (data) => {
      const options = $('chat-ids');
      options.replaceChildren();
      for (const { node } of data.session?.chats.edges ?? []) {
        const option = el('option', node.name ?? node.id);
        option.value = node.id;
        options.append(option);
      }
    },
    () => {},
  );
}

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  openChat($<HTMLInputElement>('chat-id').value.trim());
});

$('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('send-text');
  const content = input.value;
  if (!selected || !content.trim()) return;
  $('chat-error').textContent = '';
  gql<{ sendText: { message: Message } }>(
    `mutation($input: SendTextInput!) { sendText(input: $input) { message { ${MESSAGE_FIELDS} } } }`,
    { input: { sessionId: selected, chatId, content } },
  ).then(
    ({ sendText }) => {
      input.value = '';
      addMessage(sendText.message);
    },
    (error: unknown) => ($('chat-error').textContent = errorText(error)),
  );
});

// ---- webhooks ------------------------------------------------------------------------------

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  enabled?: boolean;
  deliveries?: { id: string; event: string; status: string; attempts: number; lastResponseCode: number | null; createdAt: string }[];
}

/** Which webhook fields this server has (null: none), asked once, so the page fits older and newer servers. */
let webhookFields: Promise<Set<string> | null> | null = null;

async function loadWebhooks(sessionId: string): Promise<void> {
  const box = $('webhooks');
  webhookFields ??= gql<{ __type: { fields: { name: string }[] } | null }>('{ __type(name: "Webhook") { fields { name } } }').then(
    (data) => (data.__type ? new Set(data.__type.fields.map((f) => f.name)) : null),
    () => null,
  );
  const fields = await webhookFields;
  if (!fields) {
    box.replaceChildren(el('p', 'Webhooks are not available on this server.', 'muted'));
    return;
  }
  const extra = [fields.has('enabled') ? 'enabled' : '', fields.has('deliveries') ? 'deliveries(last: 5) { id event status attempts lastResponseCode createdAt }' : ''].join(' ');
  let hooks: WebhookRow[];
  try {
    const data = await gql<{ session: { webhooks: WebhookRow[] } | null }>(`query($id: String!) { session(sessionId: $id) { webhooks { id url events ${extra} } } }`, { id: sessionId });
    hooks = data.session?.webhooks ?? [];
  } catch (error) {
    box.replaceChildren(el('p', errorText(error), 'error'));
    return;
  }
  if (selected !== sessionId) return;
  if (hooks.length === 0) {
    box.replaceChildren(el('p', 'No webhooks. Register one with the registerWebhook mutation.', 'muted'));
    return;
  }
  const table = el('table');
  const head = el('tr');
  for (const h of ['url', 'events', 'recent deliveries']) head.append(el('th', h));
  table.append(head);
  for (const hook of hooks) {
    const row = el('tr');
    row.append(
      el('td', `${hook.url}${hook.enabled === false ? ' (disabled)' : ''}`),
      el('td', hook.events.length ? hook.events.join(', ') : 'all'),
      el('td', (hook.deliveries ?? []).map((d) => `${d.event} ${d.status.toLowerCase()}${d.lastResponseCode ? ` ${d.lastResponseCode}` : ''} ×${d.attempts}`).join(' · ') || '—'),
    );
    table.append(row);
  }
  box.replaceChildren(table);
}

$('webhooks-refresh').addEventListener('click', () => {
  if (selected) void loadWebhooks(selected);
});

// ---- start ---------------------------------------------------------------------------------

void refreshSessions();
// Sessions created by other clients show up without a reload.
setInterval(() => void refreshSessions(), 10_000);
