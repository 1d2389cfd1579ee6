import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@pipewright/platform';
import { ApiTokenEntity } from './api-tokens/api-token.entity';
import type { Config } from './config';
import { ProjectMemberEntity } from './members/member.entity';
import { migrations } from './migrations';
import { ProjectEntity } from './projects/project.entity';
import { ProjectsModule } from './projects/projects.module';
import { projectsErrors } from './errors';

@Module({})
export class AppModule {
  static register(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService({ service: 'projects', config, errors: projectsErrors, entities: [ProjectEntity, ProjectMemberEntity, ApiTokenEntity], migrations }),
        ProjectsModule.register(config),
      ],
    };
  }
}
