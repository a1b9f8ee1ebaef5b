/** Where a message's media bytes are downloaded (the REST route), relative to the server. */
export const mediaUrl = (sessionId: string, messageId: string) =>
  `/api/v1/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/media`;
