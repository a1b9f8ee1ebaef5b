// Row types of every table. Times are epoch milliseconds; JSON columns are text.

export interface SessionsTable {
  session_id: string;
  engine: string;
  status: string;
  config: string;
  created_at: number;
  last_activity: number;
  failure_reason: string | null;
  me: string | null;
}

export interface SandboxAccountsTable {
  session_id: string;
  phone: string;
  linked: number;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** sha512:<hex> of the key; the key itself is never stored. */
  hash: string;
  prefix: string;
  admin: number;
  /** JSON array of session ids */
  session_ids: string;
  /** JSON array of 'read' | 'send' | 'manage' */
  actions: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface Database {
  sessions: SessionsTable;
  sandbox_accounts: SandboxAccountsTable;
  api_keys: ApiKeysTable;
}
