import type { Config } from '../../config/config.schema.js';
import type { Logger } from '../log.js';
import { openDatabase, redactUrl, type Database } from './database.js';
import { startEmbeddedPostgres } from './embedded.js';
import { migrate } from './migrate.js';

/** DATABASE_URL when set, otherwise the embedded PostgreSQL; migrated unless told not to. */
export async function connectDatabase(config: Config, log: Logger, options: { migrate?: boolean } = {}): Promise<Database> {
  let database: Database;
  if (config.database.url !== undefined) {
    database = openDatabase(config.database.url, config.database.poolSize);
  } else {
    const embedded = await startEmbeddedPostgres(config.dataDir, config.database.embeddedPort, (m) => log.info(m));
    log.debug({ url: redactUrl(embedded.url) }, 'using embedded PostgreSQL');
    database = openDatabase(embedded.url, config.database.poolSize, () => embedded.stop());
  }
  if (options.migrate !== false) {
    try {
      const result = await migrate(database.pool);
      if (result.applied.length > 0) log.info({ applied: result.applied }, 'migrations applied');
    } catch (err) {
      await database.close();
      throw err;
    }
  }
  return database;
}
