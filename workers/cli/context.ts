import { loadConfig } from '../../config/config.load.js';
import type { Config } from '../../config/config.schema.js';
import { connectDatabase } from '../../services/db/connect.js';
import type { Database } from '../../services/db/database.js';
import { createLogger, type Logger } from '../../services/log.js';

/**
 * The CLI's composition root: configuration, logger, and the database opened
 * on first use (embedded when DATABASE_URL is unset), closed in reverse at exit.
 */
export class CliContext {
  readonly config: Config;
  readonly log: Logger;
  private database: Database | undefined;
  private readonly closers: (() => Promise<void>)[] = [];

  /** The configuration read once (config/config.load.ts), or one given (tests). */
  constructor(config: Config = loadConfig()) {
    this.config = config;
    this.log = createLogger(this.config);
  }

  async db(options: { migrate?: boolean } = {}): Promise<Database> {
    if (!this.database) {
      const database = await connectDatabase(this.config, this.log, options);
      this.database = database;
      this.closers.push(() => database.close());
    }
    return this.database;
  }

  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.reverse()) await fn().catch(() => undefined);
    this.closers.length = 0;
    this.log.flush();
  }
}
