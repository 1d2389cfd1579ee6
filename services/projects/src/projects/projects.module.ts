import { Module, type DynamicModule } from '@nestjs/common';
import { ApiTokenResolver } from '../api-tokens/api-token.resolver';
import { ApiTokenService } from '../api-tokens/api-token.service';
import type { Config } from '../config';
import { MemberResolver } from '../members/member.resolver';
import { MemberService } from '../members/member.service';
import { MembersBootstrap } from '../members/members-bootstrap.provider';
import { PROJECTS_CONFIG } from '../tokens';
import { ViewerResolver } from '../viewer/viewer.resolver';
import { ProjectResolver } from './project.resolver';
import { ProjectService } from './project.service';
import { ProjectsResponder } from './projects.responder';

/** Projects with their members and API tokens, the viewer, and the answers to the gateway. */
@Module({})
export class ProjectsModule {
  static register(config: Config): DynamicModule {
    return {
      module: ProjectsModule,
      providers: [
        { provide: PROJECTS_CONFIG, useValue: config },
        ProjectService,
        MemberService,
        ApiTokenService,
        ProjectResolver,
        MemberResolver,
        ApiTokenResolver,
        ViewerResolver,
        ProjectsResponder,
        MembersBootstrap,
      ],
    };
  }
}
