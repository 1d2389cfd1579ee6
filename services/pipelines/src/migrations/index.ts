import { CreatePipelines1767200000000 } from './1767200000000-create-pipelines';
import { PipelinesInProjects1768200000000 } from './1768200000000-pipelines-in-projects';

/** The pipelines database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreatePipelines1767200000000, PipelinesInProjects1768200000000];
