import { CreateBuilds1767400000000 } from './1767400000000-create-builds';
import { BuildCancels1767400000001 } from './1767400000001-build-cancels';
import { BuildProjects1768400000000 } from './1768400000000-build-projects';

/** The builds database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateBuilds1767400000000, BuildCancels1767400000001, BuildProjects1768400000000];
