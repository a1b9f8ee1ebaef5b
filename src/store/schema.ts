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

export interface Database {
  sessions: SessionsTable;
  sandbox_accounts: SandboxAccountsTable;
}
