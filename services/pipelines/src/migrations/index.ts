/** The pipelines database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [];
