import { CreateProjects1767050000000 } from './1767050000000-create-projects';

/** The projects database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateProjects1767050000000];
