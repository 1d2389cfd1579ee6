import { CreateRuns1767300000000 } from './1767300000000-create-runs';

/** The executions database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateRuns1767300000000];
