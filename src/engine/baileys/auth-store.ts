// A Baileys login (its creds and signal keys) kept in the gateway's store, never in files, optionally
// encrypted at rest with AES-256-GCM (--auth-state-key). One row per (session, category, key id).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap, SignalKeyStore } from 'baileys';
import { placeholders, type BaileysSql } from './sql.js';

export type BaileysModule = typeof import('baileys');

const CREDS = 'creds';
const SEALED = 'v1:';

export class AuthKeyError extends Error {}

/** The key of --auth-state-key: 32 bytes as base64; null when none is set. */
export function parseAuthStateKey(value: string): Buffer | null {
  if (!value) return null;
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new AuthKeyError(`--auth-state-key must be 32 bytes in base64 (it is ${key.length} bytes): make one with \`openssl rand -base64 32\``);
  return key;
}

/** Seals and opens stored values: AES-256-GCM, `v1:` + base64(iv | tag | ciphertext); plain JSON without a key. */
export class AuthCipher {
  constructor(private readonly key: Buffer | null) {}

  get encrypts(): boolean {
    return this.key !== null;
  }

  seal(text: string): string {
    if (!this.key) return text;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(value: string): string {
    if (!value.startsWith(SEALED)) return value;
    if (!this.key) throw new AuthKeyError('the Baileys login store is encrypted: start the server with the --auth-state-key (AUTH_STATE_KEY) it was written with');
    const raw = Buffer.from(value.slice(SEALED.length), 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new AuthKeyError('--auth-state-key does not decrypt the Baileys login store (a different key wrote it)');
    }
  }
}

/**
 * At start-up: a key that cannot open the stored logins (or none where they are sealed) stops the server
 * with a clear message rather than letting a session start a new login. Returns how many Baileys sessions exist.
 */
export async function checkAuthStore(sql: BaileysSql, cipher: AuthCipher): Promise<number> {
  const [sealed] = await sql.all<{ value: string }>(`SELECT value FROM baileys_auth WHERE value LIKE 'v1:%' LIMIT 1`);
  if (sealed) cipher.open(sealed.value);
  const [row] = await sql.all<{ n: number | string }>(`SELECT count(*) AS n FROM sessions WHERE engine = 'baileys'`);
  return Number(row?.n ?? 0);
}

export interface StoredAuthState {
  state: AuthenticationState;
  saveCreds(): Promise<void>;
}

/** The session's login from the store (a new one from initAuthCreds when there is none). */
export async function loadAuthState(sql: BaileysSql, cipher: AuthCipher, sessionId: string, lib: BaileysModule): Promise<StoredAuthState> {
  const encode = (value: unknown) => cipher.seal(JSON.stringify(value, lib.BufferJSON.replacer));
  const decode = (value: string) => JSON.parse(cipher.open(value), lib.BufferJSON.reviver) as unknown;
  const [row] = await sql.all<{ value: string }>(`SELECT value FROM baileys_auth WHERE session_id = $1 AND category = $2 AND key_id = ''`, [sessionId, CREDS]);
  const creds: AuthenticationCreds = row ? (decode(row.value) as AuthenticationCreds) : lib.initAuthCreds();
  const keys: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      if (ids.length === 0) return out;
      const rows = await sql.all<{ key_id: string; value: string }>(
        `SELECT key_id, value FROM baileys_auth WHERE session_id = $1 AND category = $2 AND key_id IN (${placeholders(3, ids.length)})`,
        [sessionId, type, ...ids],
      );
      for (const r of rows) {
        let value = decode(r.value);
        if (type === 'app-state-sync-key' && value) value = lib.proto.Message.AppStateSyncKeyData.fromObject(value as object);
        out[r.key_id] = value as SignalDataTypeMap[T];
      }
      return out;
    },
    async set(data: SignalDataSet) {
      const statements: [string, unknown[]][] = [];
      for (const [category, entries] of Object.entries(data)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          statements.push(
            value
              ? [
                  `INSERT INTO baileys_auth (session_id, category, key_id, value) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (session_id, category, key_id) DO UPDATE SET value = excluded.value`,
                  [sessionId, category, id, encode(value)],
                ]
              : [`DELETE FROM baileys_auth WHERE session_id = $1 AND category = $2 AND key_id = $3`, [sessionId, category, id]],
          );
        }
      }
      if (statements.length) await sql.steps(statements);
    },
  };
  return {
    state: { creds, keys },
    saveCreds: () =>
      sql.run(
        `INSERT INTO baileys_auth (session_id, category, key_id, value) VALUES ($1, $2, '', $3)
         ON CONFLICT (session_id, category, key_id) DO UPDATE SET value = excluded.value`,
        [sessionId, CREDS, encode(creds)],
      ),
  };
}

/**
 * The `@lid` -> phone mappings Baileys kept in its key store (`lid-mapping`, `<lid user>_reverse` -> phone user),
 * so ids show as phone ids again after a restart.
 */
export async function loadLidMap(sql: BaileysSql, cipher: AuthCipher, sessionId: string): Promise<Map<string, string>> {
  const rows = await sql.all<{ key_id: string; value: string }>(`SELECT key_id, value FROM baileys_auth WHERE session_id = $1 AND category = 'lid-mapping'`, [sessionId]);
  const out = new Map<string, string>();
  for (const row of rows) {
    if (!row.key_id.endsWith('_reverse')) continue;
    const phone = JSON.parse(cipher.open(row.value)) as unknown;
    if (typeof phone === 'string' && /^\d{5,20}$/.test(phone)) out.set(row.key_id.slice(0, -'_reverse'.length), phone);
  }
  return out;
}

/** Logout and remove: the next start shows a QR. */
export function deleteAuthState(sql: BaileysSql, sessionId: string): Promise<void> {
  return sql.run(`DELETE FROM baileys_auth WHERE session_id = $1`, [sessionId]);
}
