import { Role, type Identity } from '@pipewright/contracts';
import type { RequestContext } from '@pipewright/auth';
import { Context, Directive, Field, ObjectType, Query, Resolver, registerEnumType } from '@nestjs/graphql';

registerEnumType(Role, { name: 'Role', description: 'What a caller may do (ARCHITECTURE section 7).' });

@ObjectType({ description: 'The caller as the gateway verified it.' })
@Directive('@shareable')
export class Viewer {
  @Field()
  sub!: string;

  @Field({ nullable: true })
  name?: string;

  @Field(() => [Role])
  roles!: Role[];
}

@ObjectType({ description: 'A subgraph answering for itself: who it is and who is asking.' })
@Directive('@shareable')
export class ServiceInfo {
  @Field()
  service!: string;

  @Field()
  version!: string;

  @Field(() => Viewer)
  viewer!: Viewer;
}

const VERSION = process.env.PIPEWRIGHT_VERSION ?? '0.1.0';

/** A resolver for `<service>Info`, the query each subgraph answers for operators and smoke tests. */
export function createServiceInfoResolver(service: string) {
  @Resolver(() => ServiceInfo)
  class ServiceInfoResolver {
    @Query(() => ServiceInfo, { name: `${service}Info`, description: `The ${service} subgraph, and the caller it sees.` })
    info(@Context() ctx: RequestContext): ServiceInfo {
      const viewer: Identity = ctx.identity;
      return { service, version: VERSION, viewer };
    }
  }
  return ServiceInfoResolver;
}
