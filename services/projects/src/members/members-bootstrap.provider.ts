import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Config } from '../config';
import { PROJECTS_CONFIG } from '../tokens';
import { MemberService } from './member.service';

/** At boot, makes the subjects of PROJECT_MEMBERS_BOOTSTRAP members of `default` unless they are already. */
@Injectable()
export class MembersBootstrap implements OnApplicationBootstrap {
  private readonly log = new Logger('MembersBootstrap');

  constructor(
    private readonly members: MemberService,
    @Inject(PROJECTS_CONFIG) private readonly config: Config,
  ) {}

  async onApplicationBootstrap() {
    const added = await this.members.bootstrap(this.config.PROJECT_MEMBERS_BOOTSTRAP);
    if (added.length) this.log.log({ message: 'added members to the project "default"', subjects: added });
  }
}
