import { CreatePipelines1767200000000 } from './1767200000000-create-pipelines';

/** The pipelines database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreatePipelines1767200000000];
