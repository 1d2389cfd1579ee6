import { Resolver, ResolveReference } from '@nestjs/graphql';
import { ProjectRef } from './project-ref.model';

/**
 * Lets the gateway enter this subgraph at a `Project` to resolve the fields it contributes; each
 * of those fields checks the caller's read access to the project (kind.resolver.ts).
 */
@Resolver(() => ProjectRef)
export class ProjectRefResolver {
  @ResolveReference()
  reference(ref: { id: string }): ProjectRef {
    return { id: ref.id };
  }
}
