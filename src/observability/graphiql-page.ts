// GraphiQL as /graphql serves it to browsers (yoga's renderer, bundled, no CDN): it opens on a
// first-steps document, and sends the API key the dashboard stored in this browser, both on HTTP
// (the Headers tab) and on the WebSocket that carries subscriptions (connection_init's apiKey).

/** The dashboard's localStorage key for the API key (dashboard/src/graphql.ts). */
const DASHBOARD_KEY = 'wa-gateway.apiKey';

export const FIRST_STEPS = `# wa-gateway: first steps against the sandbox
# (a simulated WhatsApp network: no phone needed).
# Run one operation at a time: put the cursor in it
# and press Ctrl-Enter (or the run button).
# An API key saved in the dashboard ("API key") is
# already in the Headers tab below.

# 1. Create a session: it starts and shows a QR code.
mutation CreateSession {
  createSession(input: { sessionId: "demo", waitForQR: true }) {
    session { sessionId status qr { expiresAt } }
  }
}

# 2. Scan the QR code as a phone would (sandbox only);
#    READY follows a moment later.
mutation Scan {
  sandboxScanQr(sessionId: "demo") { sessionId status }
}

# 3. Is it READY? Its own number is "me".
query Session {
  session(sessionId: "demo") { status me { id } }
}

# 4. Write to the Echo Bot: it answers with the same
#    text, and reads yours (ack READ).
mutation SendToEchoBot {
  sendText(input: {
    sessionId: "demo"
    chatId: "15550000001@c.us"
    content: "Hello, Echo Bot"
  }) {
    message { id ack timestamp }
  }
}

# 5. Follow everything that happens to the session:
#    run this, then step 4 again in another tab (+).
subscription Events {
  events(sessionId: "demo") {
    type
    at
    ... on MessageEvent { message { fromMe body } }
    ... on AckEvent { messageId ack }
    ... on StatusEvent { status }
  }
}

# 6. The chat: its name, unread count, last messages.
query Chat {
  session(sessionId: "demo") {
    chat(chatId: "15550000001@c.us") {
      name
      unreadCount
      messages(last: 5) { edges { node { fromMe body ack } } }
    }
  }
}
`;

const HEADERS = '__wa_gateway_headers__';
const CONNECTION_PARAMS = '__wa_gateway_connection_params__';
const readKey = `var k=null;try{k=localStorage.getItem(${JSON.stringify(DASHBOARD_KEY)})}catch(e){}`;

/** What yoga's `graphiql` option gets; the two placeholders become code that reads the key in the browser. */
export const graphiqlOptions = {
  title: 'wa-gateway GraphiQL',
  subscriptionsProtocol: 'WS' as const,
  defaultQuery: FIRST_STEPS,
  headers: HEADERS,
  // Read at each (re)connect, so a key saved in the dashboard later is used too.
  connectionParams: CONNECTION_PARAMS,
};

/** yoga's renderer, with the key read from this browser's storage where the page is opened. */
export async function renderGraphiQLPage(options: Record<string, unknown>): Promise<string> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const html = renderGraphiQL(options);
  const headers = `"${HEADERS}"`;
  const params = `"${CONNECTION_PARAMS}"`;
  // The renderer writes its options as JSON into the page; a new renderer that does not is caught here.
  if (!html.includes(headers) || !html.includes(params)) throw new Error('GraphiQL page: the options are no longer written as JSON');
  return html
    .replace(headers, `(function(){${readKey}return JSON.stringify(k?{"X-Api-Key":k}:{},null,2)})()`)
    .replace(params, `function(){${readKey}return k?{apiKey:k}:{}}`);
}
