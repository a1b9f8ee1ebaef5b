import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { AppError, validationError } from '../errors.js';
import { validateSessionId } from '../sessions/session-config.js';
import { textProblem } from '../text-input.js';
import type { Database } from '../store/schema.js';
import { actions, type Action, type Principal } from './principal.js';

/** What callers see of a stored key: never the key, never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it. */
  prefix: string;
  admin: boolean;
  sessionIds: string[];
  actions: Action[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface CreateApiKeyInput {
  name?: string | null;
  admin?: boolean | null;
  sessionIds?: readonly string[] | null;
  actions?: readonly string[] | null;
}

const KEY_PREFIX = 'wag_';
// Writing last_used_at on every request would turn reads into writes; once a minute is enough to show use.
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashKey(key: string): string {
  return `sha512:${createHash('sha512').update(key, 'utf8').digest('hex')}`;
}

/** A configured key as its stored form: `sha512:<hex>` as given (lower-cased), a plain key hashed. */
export function configuredKeyHash(entry: string): string {
  return entry.startsWith('sha512:') ? entry.toLowerCase() : hashKey(entry);
}

const createSchema = z.object({
  name: z.string().trim().min(1).max(100).refine((v) => !textProblem(v, 'name'), 'must be one line of text without control characters').nullish(),
  admin: z.boolean().nullish(),
  sessionIds: z.array(z.string()).max(1000).nullish(),
  actions: z.array(z.enum(actions)).nullish(),
});

/** API keys: the admin keys given at start plus the keys stored (hashed) in the api_keys table. */
export class ApiKeyService {
  private readonly configured: Map<string, Principal>;
  /** Active stored keys by hash, so authenticating a request never waits for the database. */
  private readonly active = new Map<string, Principal & { lastUsedAt: number | null }>();
  private readonly revokedListeners: ((id: string) => void)[] = [];
  private readonly changeListeners: ((change: { op: 'created' | 'revoked'; id: string }) => void)[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    configuredKeys: readonly string[],
  ) {
    this.configured = new Map(
      configuredKeys.map((entry, i) => [
        configuredKeyHash(entry),
        { id: configuredKeys.length > 1 ? `config-${i + 1}` : 'config', name: 'configured at start', admin: true, sessionIds: [], actions: [...actions] },
      ]),
    );
  }

  async init(): Promise<void> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('revoked_at', 'is', null).execute();
    for (const row of rows) this.active.set(row.hash, { ...principalOf(toView(row)), lastUsedAt: row.last_used_at });
  }

  /** False while no key exists at all: then the API is open (and bound to loopback unless told otherwise). */
  get enabled(): boolean {
    return this.configured.size > 0 || this.active.size > 0;
  }

  get configuredCount(): number {
    return this.configured.size;
  }

  /** The principal a key stands for, or null when the key is unknown or revoked. */
  authenticate(key: string): Principal | null {
    const hash = hashKey(key);
    const configured = this.configured.get(hash);
    if (configured) return configured;
    const stored = this.active.get(hash);
    if (!stored) return null;
    const now = Date.now();
    if (!stored.lastUsedAt || now - stored.lastUsedAt > LAST_USED_RESOLUTION_MS) {
      stored.lastUsedAt = now;
      void this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', stored.id).execute().catch(() => undefined);
    }
    return stored;
  }

  /** Creates a key and returns it in clear text: the only time it is ever shown. */
  async create(input: CreateApiKeyInput): Promise<{ key: string; apiKey: ApiKeyView }> {
    const parsed = createSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw validationError(`invalid ${issue.path.join('.') || 'input'}: ${issue.message}`, { field: issue.path.join('.') });
    }
    const admin = parsed.data.admin ?? false;
    const sessionIds = [...new Set((parsed.data.sessionIds ?? []).map((id) => validateSessionId(id)))];
    const keyActions = [...new Set(parsed.data.actions ?? (admin ? [] : ['read']))] as Action[];
    if (!admin && sessionIds.length === 0) {
      throw validationError('a key that is not admin needs at least one session id in sessionIds', { field: 'sessionIds' });
    }
    if (!admin && keyActions.length === 0) throw validationError('a key that is not admin needs at least one action', { field: 'actions' });
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const view: ApiKeyView = {
      id: `key_${randomBytes(9).toString('base64url')}`,
      name: parsed.data.name ?? (admin ? 'admin key' : `key for ${sessionIds.join(', ')}`),
      prefix: key.slice(0, KEY_PREFIX.length + 6),
      admin,
      sessionIds: admin ? [] : sessionIds,
      actions: admin ? [...actions] : keyActions,
      createdAt: Date.now(),
      lastUsedAt: null,
      revokedAt: null,
    };
    const hash = hashKey(key);
    await this.db
      .insertInto('api_keys')
      .values({
        id: view.id,
        name: view.name,
        hash,
        prefix: view.prefix,
        admin: admin ? 1 : 0,
        session_ids: JSON.stringify(view.sessionIds),
        actions: JSON.stringify(view.actions),
        created_at: view.createdAt,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    this.active.set(hash, { ...principalOf(view), lastUsedAt: null });
    for (const listener of this.changeListeners) listener({ op: 'created', id: view.id });
    return { key, apiKey: view };
  }

  /** `listener` is told the id of every key revoked from now on (what was authorized with it must end). */
  onRevoked(listener: (id: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /** Every stored key, revoked ones too, oldest first. */
  async list(): Promise<ApiKeyView[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toView);
  }

  /** Revokes a stored key at once (requests with it fail from now on); revoking twice is harmless. */
  async revoke(id: string): Promise<ApiKeyView> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', `API key '${id}' not found`, { id });
    if (row.revoked_at === null) {
      row.revoked_at = Date.now();
      await this.db.updateTable('api_keys').set({ revoked_at: row.revoked_at }).where('id', '=', id).execute();
    }
    this.active.delete(row.hash);
    for (const listener of this.revokedListeners) listener(id);
    for (const listener of this.changeListeners) listener({ op: 'revoked', id });
    return toView(row);
  }

  /** `listener` is told of every key created or revoked through this process (src/cluster/change-broadcast.ts tells the other nodes). */
  onChanged(listener: (change: { op: 'created' | 'revoked'; id: string }) => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * Reads the stored keys again (another node created or revoked one): new keys authenticate from now on, and a
   * key gone is revoked here too, with its live subscriptions ended by the revoked listeners.
   */
  async reload(): Promise<void> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('revoked_at', 'is', null).execute();
    const fresh = new Set(rows.map((row) => row.hash));
    const gone: string[] = [];
    for (const [hash, principal] of this.active) {
      if (fresh.has(hash)) continue;
      this.active.delete(hash);
      gone.push(principal.id);
    }
    for (const row of rows) if (!this.active.has(row.hash)) this.active.set(row.hash, { ...principalOf(toView(row)), lastUsedAt: row.last_used_at });
    for (const id of gone) for (const listener of this.revokedListeners) listener(id);
  }
}

function toView(row: Database['api_keys']): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    admin: row.admin === 1,
    sessionIds: JSON.parse(row.session_ids) as string[],
    actions: JSON.parse(row.actions) as Action[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

function principalOf(view: ApiKeyView): Principal {
  return { id: view.id, name: view.name, admin: view.admin, sessionIds: view.sessionIds, actions: view.actions };
}
