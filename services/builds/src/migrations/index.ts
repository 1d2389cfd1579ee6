import { CreateBuilds1767400000000 } from './1767400000000-create-builds';
import { BuildCancels1767400000001 } from './1767400000001-build-cancels';

/** The builds database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateBuilds1767400000000, BuildCancels1767400000001];
