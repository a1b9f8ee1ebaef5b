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

export interface WebhooksTable {
  id: string;
  session_id: string;
  url: string;
  /** JSON array of EventType; empty = every event. */
  events: string;
  /** JSON object of custom header name -> value. */
  headers: string;
  secret: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
  /** Set when its session was removed; the row goes once its pending deliveries are done. */
  deleted_at: number | null;
}

export interface WebhookDeliveriesTable {
  /** Also the webhook-id header and the body's id: the same on every attempt. */
  id: string;
  webhook_id: string;
  session_id: string;
  event: string;
  /** The exact JSON body sent (and signed) on every attempt. */
  body: string;
  status: string;
  attempts: number;
  /** Failed attempts since the delivery was (re)queued: the position in the retry schedule. */
  schedule_step: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  completed_at: number | null;
}

export interface Database {
  sessions: SessionsTable;
  sandbox_accounts: SandboxAccountsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
