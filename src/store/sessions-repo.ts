import type { Compilable, Kysely } from 'kysely';
import type { PgBatch } from './pg/pg-types.js';
import type { SessionConfig } from '../engine/engine.js';
import type { Database } from './schema.js';

export interface SessionRow {
  sessionId: string;
  engine: string;
  status: string;
  config: SessionConfig;
  createdAt: number;
  lastActivity: number;
  failureReason: string | null;
  me: string | null;
  /** Cluster: the node that drives it (null outside a cluster). */
  owner?: string | null;
}

export class SessionsRepo {
  private readonly write: (query: Compilable) => Promise<unknown>;

  /**
   * With PostgreSQL's batch, writes join the turn's transaction (with the sandbox's writes of the same step, and
   * under the rule that no answer leaves before its writes commit); on SQLite they run through Kysely as before.
   */
  constructor(
    private readonly db: Kysely<Database>,
    batch?: PgBatch,
  ) {
    this.write = batch
      ? (query) => {
          const { sql, parameters } = query.compile();
          return batch.run(sql, parameters);
        }
      : (query) => (query as unknown as { execute(): Promise<unknown> }).execute();
  }

  async all(): Promise<SessionRow[]> {
    const rows = await this.db.selectFrom('sessions').selectAll().orderBy('created_at').execute();
    return rows.map(rowOf);
  }

  async get(sessionId: string): Promise<SessionRow | null> {
    const r = await this.db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
    return r ? rowOf(r) : null;
  }

  async insert(row: SessionRow): Promise<void> {
    await this.write(
      this.db
        .insertInto('sessions')
        .values({
          session_id: row.sessionId,
          engine: row.engine,
          status: row.status,
          config: JSON.stringify(row.config),
          created_at: row.createdAt,
          last_activity: row.lastActivity,
          failure_reason: row.failureReason,
          me: row.me,
          owner: row.owner ?? null,
          owner_epoch: 0,
        }),
    );
  }

  async update(sessionId: string, patch: Partial<Pick<SessionRow, 'status' | 'lastActivity' | 'failureReason' | 'me'>>): Promise<void> {
    const values: Partial<Database['sessions']> = {};
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.lastActivity !== undefined) values.last_activity = patch.lastActivity;
    if (patch.failureReason !== undefined) values.failure_reason = patch.failureReason;
    if (patch.me !== undefined) values.me = patch.me;
    if (Object.keys(values).length === 0) return;
    await this.write(this.db.updateTable('sessions').set(values).where('session_id', '=', sessionId));
  }

  async delete(sessionId: string): Promise<void> {
    await this.write(this.db.deleteFrom('sessions').where('session_id', '=', sessionId));
  }
}

function rowOf(r: Database['sessions']): SessionRow {
  return {
    sessionId: r.session_id,
    engine: r.engine,
    status: r.status,
    config: JSON.parse(r.config) as SessionConfig,
    createdAt: r.created_at,
    lastActivity: r.last_activity,
    failureReason: r.failure_reason,
    me: r.me,
    owner: r.owner,
  };
}
