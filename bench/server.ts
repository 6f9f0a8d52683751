import type { Config } from '../config/config.schema.js';
import { startEmbeddedPostgres } from '../services/db/embedded.js';

/** The PostgreSQL server a benchmark creates its databases on: DATABASE_URL's, or the embedded one (stopped at the end). */
export async function benchServer(config: Config): Promise<{ url: string; stop(): Promise<void> }> {
  if (config.database.url !== undefined) return { url: config.database.url, stop: () => Promise.resolve() };
  const embedded = await startEmbeddedPostgres(config.dataDir, config.database.embeddedPort);
  return { url: embedded.url, stop: () => embedded.stop() };
}
