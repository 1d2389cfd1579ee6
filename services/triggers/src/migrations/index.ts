import { CreateTriggers1769300000000 } from './1769300000000-create-triggers';

/** The triggers database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateTriggers1769300000000];
