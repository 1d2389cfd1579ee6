import { Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '../config';
import { BUILDS_CONFIG } from '../tokens';
import { BuildRunner } from './build-runner';
import { BuildResolver } from './build.resolver';
import { BuildService } from './build.service';
import { BuildsResponder } from './builds.responder';
import { ProjectBuildsResolver } from './project-builds.resolver';

@Module({})
export class BuildsModule {
  static register(config: Config): DynamicModule {
    return {
      module: BuildsModule,
      providers: [{ provide: BUILDS_CONFIG, useValue: config }, BuildService, BuildRunner, BuildResolver, ProjectBuildsResolver, BuildsResponder],
    };
  }
}
