import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '../config';
import { BuildEvents } from '../engine/build-events';
import { ChildRuns } from '../engine/child-runs';
import { Engine } from '../engine/engine';
import { Retention } from '../engine/retention';
import { EXECUTIONS_CONFIG } from '../tokens';
import { ProjectRunsResolver } from './project-runs.resolver';
import { RunResolver } from './run.resolver';
import { RunFactory } from './run-factory';
import { RunService } from './run.service';
import { RunsResponder } from './runs.responder';
import { ProjectCleanup } from './project-cleanup';
import { TriggerRuns } from './trigger-runs';

@Module({})
export class RunsModule {
  static register(config: Config): DynamicModule {
    return {
      module: RunsModule,
      providers: [{ provide: EXECUTIONS_CONFIG, useValue: config }, RunFactory, RunService, ChildRuns, Engine, Retention, BuildEvents, RunResolver, ProjectRunsResolver, RunsResponder, ProjectCleanup, TriggerRuns],
    };
  }
}
