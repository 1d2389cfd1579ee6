import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';

/**
 * The projects service's `Project` entity. This subgraph contributes its environment resources
 * (`Project.sourceRepositories`, ... `Project.deploymentTargets`); everything else about a
 * project is resolved by the projects service.
 */
@ObjectType('Project')
@Directive('@key(fields: "id")')
export class ProjectRef {
  @Field(() => ID) id!: string;
}

/** The entity reference a resource's `project` field returns. */
export const projectRef = (id: string): ProjectRef => ({ id });
