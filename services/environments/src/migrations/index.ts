import { CreateResources1767100000000 } from './1767100000000-create-resources';
import { ResourcesInProjects1768100000000 } from './1768100000000-resources-in-projects';

/** The environments database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateResources1767100000000, ResourcesInProjects1768100000000];
