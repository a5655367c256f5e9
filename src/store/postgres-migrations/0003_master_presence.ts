/**
 * The masters that are up (leader and standbys): one row each, renewed while it runs, its expiry by
 * the server's clock. A leader cut off from the store steps aside only when it last saw another
 * master here that can take over.
 */
export const sql = `
CREATE TABLE master_presence (
  id         TEXT        NOT NULL PRIMARY KEY,
  tcp        TEXT        NOT NULL,
  http       TEXT        NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
`;
