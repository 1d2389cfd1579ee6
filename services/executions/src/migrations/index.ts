import { CreateRuns1767300000000 } from './1767300000000-create-runs';
import { StageRestarts1767300000001 } from './1767300000001-stage-restarts';
import { RunHistory1767300000002 } from './1767300000002-run-history';
import { RunProjects1768300000000 } from './1768300000000-run-projects';
import { StageGenerations1769000000000 } from './1769000000000-stage-generations';
import { RunVersions1769100000000 } from './1769100000000-run-versions';
import { RunTriggers1769300000000 } from './1769300000000-run-triggers';

/** The executions database's migrations, oldest first (the shared outbox migration is added for you). */
export const migrations = [CreateRuns1767300000000, StageRestarts1767300000001, RunHistory1767300000002, RunProjects1768300000000, StageGenerations1769000000000, RunVersions1769100000000, RunTriggers1769300000000];
