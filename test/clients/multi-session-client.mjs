// The JavaScript client of ../../../shared/spec/multi-session-api-reference.md ("SDK Examples"), the class
// copied as written. The usage below is the reference's, with the base URL given by the test (argv[2]),
// and one step added that a person does by hand: scanning the QR code (here the sandbox's scan route)
// and waiting until the session is ready. It prints the three answers as JSON for the test to check.

class MultiSessionClient {
  constructor(baseURL = 'http://localhost:8080') {
    this.baseURL = `${baseURL}/api/v1`;
  }

  async createSession(sessionId, config = {}) {
    const response = await fetch(`${this.baseURL}/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        sessionId,
        waitForQR: true,
        config: { multiDevice: true, headless: true, ...config }
      })
    });
    return response.json();
  }

  async sendMessage(sessionId, chatId, content) {
    const response = await fetch(`${this.baseURL}/sessions/${sessionId}/send-text`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ chatId, content })
    });
    return response.json();
  }

  async getChats(sessionId) {
    const response = await fetch(`${this.baseURL}/sessions/${sessionId}/chats`);
    return response.json();
  }
}

/** The step a person does with a phone: scan the QR, then the session becomes ready. */
async function scanAndWaitReady(baseURL, sessionId) {
  await fetch(`${baseURL}/api/v1/sessions/${sessionId}/sandbox/scan`, { method: 'POST' });
  for (let i = 0; i < 250; i++) {
    const status = await (await fetch(`${baseURL}/api/v1/sessions/${sessionId}/status`)).json();
    if (status.data?.status === 'ready') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${sessionId} did not become ready`);
}

// Usage
const baseURL = process.argv[2] ?? 'http://localhost:8080';
const client = new MultiSessionClient(baseURL);
const created = await client.createSession('my-bot');
await scanAndWaitReady(baseURL, 'my-bot');
const sent = await client.sendMessage('my-bot', '1234567890@c.us', 'Hello!');
const chats = await client.getChats('my-bot');
console.log(JSON.stringify({ created, sent, chats }));
