// The dashboard: sessions with live status and the login QR, and per session its chats, a live event
// log and its webhooks, all through the public GraphQL API (fetch for queries and mutations, graphql-ws
// for live updates). Same-origin JSON POSTs only, so the server's cross-site rules never get in the way.

import { ChatPanel } from './chat.js';
import { $, el, errorText } from './dom.js';
import { EventLog } from './events.js';
import { apiKey, gql, onUnauthenticated } from './graphql.js';
import { WebhooksPanel } from './webhooks.js';
import { WsClient } from './ws.js';

type Status = 'INITIALIZING' | 'QR_READY' | 'AUTHENTICATED' | 'READY' | 'FAILED' | 'TERMINATED';

interface SessionRow {
  sessionId: string;
  status: Status;
  engine: string;
  failureReason: string | null;
  me: { id: string } | null;
}

const SESSION_FIELDS = 'sessionId status engine failureReason me { id }';

const ws = new WsClient(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`, (state) => {
  const pill = $('connection');
  pill.textContent = state;
  pill.className = `pill ${state}`;
});
const chats = new ChatPanel(ws);
const eventLog = new EventLog(ws);
const webhooks = new WebhooksPanel();

const sessions = new Map<string, SessionRow & { unsubscribe: () => void }>();
let selected: string | null = null;
/** The QR subscription of the selected session; dropped when the selection changes. */
let qrSub: (() => void) | null = null;

// ---- API key -------------------------------------------------------------------------------

const keyDialog = $<HTMLDialogElement>('key-dialog');
function askForKey(reason: string): void {
  $('key-reason').textContent = reason;
  $<HTMLInputElement>('api-key').value = apiKey.get() ?? '';
  if (!keyDialog.open) keyDialog.showModal();
}
onUnauthenticated(() => askForKey(apiKey.get() ? 'The server refused this API key. Enter another one.' : 'This server asks for an API key.'));
$('key-button').addEventListener('click', () => askForKey('The key is kept in this browser (localStorage) and sent as X-Api-Key; the REST docs and GraphiQL use it too.'));
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
    const pick = el('button', undefined, `session${s.sessionId === selected ? ' selected' : ''}`);
    pick.type = 'button';
    if (s.sessionId === selected) pick.setAttribute('aria-current', 'true');
    pick.append(el('span', s.sessionId, 'name'), el('span', s.status, `pill status ${s.status}`));
    pick.addEventListener('click', () => select(s.sessionId));
    li.append(pick);
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
  const drop = () => {
    entry.unsubscribe();
    sessions.delete(row.sessionId);
    if (selected === row.sessionId) select(null);
    renderList();
  };
  entry.unsubscribe = ws.subscribe<{ sessionStatus: { status: Status; reason: string | null } }>(
    'subscription($id: String!) { sessionStatus(sessionId: $id) { status reason } }',
    { id: row.sessionId },
    {
      next: ({ sessionStatus }) => {
        const previous = entry.status;
        entry.status = sessionStatus.status;
        entry.failureReason = sessionStatus.reason;
        renderList();
        if (selected === row.sessionId && previous !== entry.status) void showDetail();
      },
      // The session is gone: removal ends its subscription (a stopped session, TERMINATED, stays).
      complete: drop,
      error: drop,
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
        if (selected === id) select(null);
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
    qrSub?.();
    qrSub = null;
    resetPairing();
    $('session-error').textContent = '';
    chats.close();
    eventLog.close();
    webhooks.close();
  }
  selected = sessionId;
  renderList();
  $('detail').hidden = sessionId === null;
  if (sessionId) {
    eventLog.open(sessionId);
    webhooks.open(sessionId, currentTab === 'webhooks');
    void showDetail();
  }
}

async function showDetail(): Promise<void> {
  const s = selected ? sessions.get(selected) : undefined;
  if (!s) return;
  $('detail-id').textContent = s.sessionId;
  const pill = $('detail-status');
  pill.textContent = s.status;
  pill.className = `pill ${s.status}`;
  $('detail-engine').textContent = s.engine.toLowerCase().replace('_', '-');
  $('detail-reason').textContent = s.failureReason ?? '';
  const stopped = s.status === 'TERMINATED' || s.status === 'FAILED';
  $<HTMLButtonElement>('start-session').disabled = !stopped;
  $<HTMLButtonElement>('stop-session').disabled = s.status === 'TERMINATED';
  showQr(s);
  if (s.status === 'READY') {
    if (!s.me) {
      const data = await gql<{ session: SessionRow | null }>(`query($id: String!) { session(sessionId: $id) { ${SESSION_FIELDS} } }`, { id: s.sessionId }).catch(() => null);
      if (data?.session) Object.assign(s, data.session);
    }
    $('detail-me').textContent = s.me ? `as ${s.me.id}` : '';
    chats.open(s.sessionId, s.me?.id ?? null);
  } else {
    $('detail-me').textContent = '';
    chats.close();
  }
}

/** The pairing code shown, and for which session (a new QR phase or another session starts over). */
let pairingFor: string | null = null;

function resetPairing(): void {
  pairingFor = null;
  $('pairing-result').hidden = true;
  $('pairing-code').textContent = '';
  $('pairing-error').textContent = '';
}

function showQr(s: SessionRow): void {
  const panel = $('qr-panel');
  panel.hidden = s.status !== 'QR_READY';
  for (const node of panel.querySelectorAll<HTMLElement>('.sandbox-only')) node.hidden = s.engine !== 'SANDBOX';
  if (s.status !== 'QR_READY' || pairingFor !== s.sessionId) resetPairing();
  if ((s.status !== 'QR_READY' && s.status !== 'INITIALIZING') || qrSub) return;
  $('scan-error').textContent = '';
  qrSub = ws.subscribe<{ qr: { dataUrl: string; expiresAt: string } }>(
    'subscription($id: String!) { qr(sessionId: $id) { dataUrl expiresAt } }',
    { id: s.sessionId },
    {
      next: ({ qr }) => {
        $<HTMLImageElement>('qr').src = qr.dataUrl;
        $('qr-expires').textContent = new Date(qr.expiresAt).toLocaleTimeString();
        if (sessions.get(s.sessionId)?.status === 'QR_READY') panel.hidden = false;
      },
      error: (message) => ($('scan-error').textContent = message),
      complete: () => (qrSub = null),
    },
  );
}

$('pairing-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const sessionId = selected;
  if (!sessionId) return;
  $('pairing-error').textContent = '';
  gql<{ requestPairingCode: { code: string } }>('mutation($id: String!, $phone: String!) { requestPairingCode(sessionId: $id, phoneNumber: $phone) { code } }', {
    id: sessionId,
    phone: $<HTMLInputElement>('pairing-phone').value.trim(),
  }).then(
    ({ requestPairingCode }) => {
      if (selected !== sessionId) return;
      pairingFor = sessionId;
      $('pairing-code').textContent = requestPairingCode.code;
      $('pairing-result').hidden = false;
    },
    (error: unknown) => ($('pairing-error').textContent = errorText(error)),
  );
});

$('pairing-enter').addEventListener('click', () => {
  if (!selected) return;
  gql('mutation($id: String!, $code: String!) { sandboxEnterPairingCode(sessionId: $id, code: $code) { sessionId status } }', {
    id: selected,
    code: $('pairing-code').textContent ?? '',
  }).catch((error: unknown) => ($('pairing-error').textContent = errorText(error)));
});

$('scan').addEventListener('click', () => {
  if (!selected) return;
  gql('mutation($id: String!) { sandboxScanQr(sessionId: $id) { sessionId status } }', { id: selected }).catch(
    (error: unknown) => ($('scan-error').textContent = errorText(error)),
  );
});

// Lifecycle: the status subscription shows what follows (TERMINATED, then a QR or READY on a start).
for (const [button, field, question] of [
  ['start-session', 'startSession', null],
  ['stop-session', 'stopSession', null],
  ['restart-session', 'restartSession', null],
  ['logout-session', 'logoutSession', 'Log session %s out? Its next start shows a QR code to scan.'],
] as const) {
  $(button).addEventListener('click', () => {
    if (!selected || (question && !confirm(question.replace('%s', selected)))) return;
    lifecycle(button, `mutation($id: String!) { ${field}(sessionId: $id) { sessionId status } }`, selected);
  });
}

$('remove-session').addEventListener('click', () => {
  if (!selected || !confirm(`Remove session ${selected} and everything stored for it?`)) return;
  lifecycle('remove-session', 'mutation($id: String!) { removeSession(sessionId: $id) { removed } }', selected);
});

/** One lifecycle call: its button says it is under way until the answer, and a refusal shows below the title. */
function lifecycle(buttonId: string, mutation: string, sessionId: string): void {
  const control = $<HTMLButtonElement>(buttonId);
  $('session-error').textContent = '';
  control.setAttribute('aria-busy', 'true');
  gql(mutation, { id: sessionId })
    .catch((error: unknown) => {
      if (selected === sessionId) $('session-error').textContent = errorText(error);
    })
    .finally(() => control.removeAttribute('aria-busy'));
}

// ---- tabs: Chats, Events, Webhooks (arrow keys move between them) -----------------------------

type Tab = 'chats' | 'events' | 'webhooks';
const TABS: Tab[] = ['chats', 'events', 'webhooks'];
const panelOf: Record<Tab, string> = { chats: 'chat-panel', events: 'events-panel', webhooks: 'webhooks-panel' };
let currentTab: Tab = 'chats';

function showTab(tab: Tab, focus = false): void {
  currentTab = tab;
  for (const t of TABS) {
    const on = t === tab;
    const control = $(`tab-${t}`);
    control.setAttribute('aria-selected', String(on));
    control.tabIndex = on ? 0 : -1;
    $(panelOf[t]).hidden = !on;
    if (on && focus) control.focus();
  }
  webhooks.setVisible(tab === 'webhooks');
}

for (const tab of TABS) {
  const control = $(`tab-${tab}`);
  control.addEventListener('click', () => showTab(tab));
  control.addEventListener('keydown', (event) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    showTab(TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length]!, true);
  });
}

// ---- start ---------------------------------------------------------------------------------

void refreshSessions();
// Sessions created by other clients show up without a reload.
setInterval(() => void refreshSessions(), 10_000);
