// The GraphQL documents and settings both client examples use; each client parses them with its own gql.

export const url = process.env.WA_GATEWAY_URL ?? 'http://localhost:8080';
export const wsUrl = `${url.replace(/^http/, 'ws')}/graphql`;
export const apiKey = process.env.WA_API_KEY;
/** The sandbox's built-in contact that answers every text with the same text. */
export const ECHO_BOT = '15550000001@c.us';

export const CREATE = /* GraphQL */ `
  mutation Create($sessionId: String!) {
    createSession(input: { sessionId: $sessionId }) { session { sessionId status } }
  }
`;
export const STATUS = /* GraphQL */ `
  subscription Status($sessionId: String!) { sessionStatus(sessionId: $sessionId) { status reason } }
`;
export const MESSAGES = /* GraphQL */ `
  subscription Messages($sessionId: String!, $chatId: String) {
    message(sessionId: $sessionId, chatId: $chatId) { id body fromMe chatId }
  }
`;
/** Sandbox engine only: scans the QR code as a phone would. */
export const SCAN = /* GraphQL */ `mutation Scan($sessionId: String!) { sandboxScanQr(sessionId: $sessionId) { status } }`;
export const SEND = /* GraphQL */ `
  mutation Send($input: SendTextInput!) { sendText(input: $input) { message { id ack } } }
`;
export const REMOVE = /* GraphQL */ `mutation Remove($sessionId: String!) { removeSession(sessionId: $sessionId) { removed } }`;

export type StatusData = { sessionStatus: { status: string; reason: string | null } };
export type MessageData = { message: { id: string; body: string | null; fromMe: boolean; chatId: string } };

/** Ends the example with exit code 1 if it has not finished in time. */
export function deadline(): NodeJS.Timeout {
  return setTimeout(() => {
    console.error('timed out');
    process.exit(1);
  }, Number(process.env.EXAMPLE_TIMEOUT_MS ?? 30_000));
}

export function fail(error: unknown): never {
  console.error(`failed: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
}
