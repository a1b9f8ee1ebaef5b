// 100 sessions of the shape `sessions { sessionId status lastActivity }` returns, for the reference servers.
const at = new Date('2025-01-01T00:00:00.000Z').toISOString();
export const sessions = Array.from({ length: 100 }, (_, i) => ({ sessionId: `bench-${i}`, status: 'READY', lastActivity: at }));
export const sessionsBody = () => JSON.stringify({ data: { sessions } });
