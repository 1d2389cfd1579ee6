import { CreateBuilds1767400000000 } from './1767400000000-create-builds';

/** The builds database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateBuilds1767400000000];
