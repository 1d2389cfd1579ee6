import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MessageBus } from '@pipewright/messaging';
import type { Subscription } from 'nats';
import { ApiTokenService } from '../api-tokens/api-token.service';
import { MemberService } from '../members/member.service';
import { ProjectService } from './project.service';

/** Answers the gateway on the bus: a caller's memberships, API token verification, liveness. */
@Injectable()
export class ProjectsResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly members: MemberService,
    private readonly tokens: ApiTokenService,
    private readonly projects: ProjectService,
  ) {}

  onApplicationBootstrap() {
    this.subs = [
      this.bus.answer('rpc.projects.memberships', async ({ sub, groupRoles }) => ({ memberships: await this.members.memberships(sub, groupRoles) })),
      this.bus.answer('rpc.projects.api-token.verify', ({ token }) => this.tokens.verify(token)),
      this.bus.answer('rpc.projects.project.exists', async ({ projectId }) => ({ exists: !!(await this.projects.get(projectId)) })),
      this.bus.answer('rpc.projects.ping', () => ({ service: 'projects' as const, at: new Date().toISOString() })),
    ];
  }

  onModuleDestroy() {
    for (const s of this.subs) s.unsubscribe();
  }
}
