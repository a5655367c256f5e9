/**
 * The leader lease in PostgreSQL: the one row of leader_lease, its expiry by the server's clock
 * (now()), never a master's. Taking it over is one UPDATE that raises the epoch, so it waits for
 * any write that holds the row FOR SHARE (a fenced write of the old leader) and every later write
 * of the old leader finds the new epoch and is refused. The masters that are up renew a row each
 * in master_presence.
 */
import type { AcquireResult, LeaderLease, LeaseState, MasterAddress } from './lease.js';
import type { PostgresConnection } from './postgres-connection.js';

interface LeaseRow {
  holder_id: string;
  holder_tcp: string;
  holder_http: string;
  epoch: number;
  expires_in_ms: number;
}

const ttl = (ms: number): number => Math.max(1, Math.ceil(ms));

export class PostgresLease implements LeaderLease {
  constructor(private readonly c: PostgresConnection) {}

  async acquire(me: MasterAddress, ttlMs: number): Promise<AcquireResult> {
    // The first acquisition inserts the row; later ones update it, only once it has expired.
    const rows = await this.c.query<{ epoch: number }>(
      `INSERT INTO leader_lease AS l (id, holder_id, holder_tcp, holder_http, epoch, expires_at)
       VALUES (1, $1, $2, $3, 1, now() + $4::integer * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET holder_id = excluded.holder_id, holder_tcp = excluded.holder_tcp,
         holder_http = excluded.holder_http, epoch = l.epoch + 1, expires_at = excluded.expires_at
       WHERE l.expires_at < now()
       RETURNING epoch`,
      [me.id, me.tcp, me.http, ttl(ttlMs)],
    );
    const won = rows[0];
    return won ? { acquired: true, epoch: won.epoch } : { acquired: false, current: await this.current() };
  }

  async renew(me: MasterAddress, epoch: number, ttlMs: number): Promise<boolean> {
    const rows = await this.c.query(
      `UPDATE leader_lease SET expires_at = now() + $3::integer * interval '1 millisecond'
       WHERE id = 1 AND holder_id = $1 AND epoch = $2 RETURNING epoch`,
      [me.id, epoch, ttl(ttlMs)],
    );
    return rows.length > 0;
  }

  async release(me: MasterAddress, epoch: number): Promise<void> {
    await this.c.query(`UPDATE leader_lease SET expires_at = now() - interval '1 millisecond' WHERE id = 1 AND holder_id = $1 AND epoch = $2`, [me.id, epoch]);
  }

  async current(): Promise<LeaseState | null> {
    const rows = await this.c.query<LeaseRow>(
      `SELECT holder_id, holder_tcp, holder_http, epoch,
         CEIL(EXTRACT(EPOCH FROM (expires_at - now())) * 1000)::bigint AS expires_in_ms
       FROM leader_lease WHERE id = 1 AND expires_at > now()`,
    );
    const row = rows[0];
    return row ? { holder: { id: row.holder_id, tcp: row.holder_tcp, http: row.holder_http }, epoch: row.epoch, expiresInMs: row.expires_in_ms } : null;
  }

  fence(epoch: number): void {
    this.c.fence(epoch);
  }

  async heartbeat(me: MasterAddress, ttlMs: number): Promise<MasterAddress[]> {
    // One statement: this master's row renewed, expired ones deleted, the other live ones read.
    // Rows another master holds (renewing its own) are left to a later call: no waiting, no deadlock.
    return this.c.query<MasterAddress>(
      `WITH mine AS (
         INSERT INTO master_presence (id, tcp, http, expires_at)
         VALUES ($1, $2, $3, now() + $4::integer * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET tcp = excluded.tcp, http = excluded.http, expires_at = excluded.expires_at
       ), gone AS (
         DELETE FROM master_presence WHERE id IN (
           SELECT id FROM master_presence WHERE id <> $1 AND expires_at <= now() FOR UPDATE SKIP LOCKED)
       )
       SELECT id, tcp, http FROM master_presence WHERE id <> $1 AND expires_at > now() ORDER BY id`,
      [me.id, me.tcp, me.http, ttl(ttlMs)],
    );
  }
}
