import { CreateResources1767100000000 } from './1767100000000-create-resources';

/** The environments database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateResources1767100000000];
