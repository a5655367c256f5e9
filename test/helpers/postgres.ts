/** The private PostgreSQL server the tests start, shared with the bench's PostgreSQL column (one implementation). */
export { PostgresServer, postgresBinDir } from '../../bench/postgres-server.js';
