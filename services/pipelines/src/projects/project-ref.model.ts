import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';

/**
 * The projects service's `Project` entity. This subgraph contributes `Project.pipelines`;
 * everything else about a project is resolved by the projects service.
 */
@ObjectType('Project')
@Directive('@key(fields: "id")')
export class ProjectRef {
  @Field(() => ID) id!: string;
}
