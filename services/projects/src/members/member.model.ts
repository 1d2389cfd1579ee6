import { Field, ObjectType } from '@nestjs/graphql';
import { ConnectionType } from '@pipewright/platform';
import { ProjectRole } from '../roles';

@ObjectType({ description: 'A subject (a user of the identity provider) with its roles in one project.' })
export class ProjectMember {
  @Field() subject!: string;
  @Field(() => [ProjectRole]) roles!: ProjectRole[];
  @Field() addedBy!: string;
  @Field() addedAt!: Date;
  @Field() updatedAt!: Date;
}

export const ProjectMemberConnection = ConnectionType(ProjectMember, 'ProjectMember');
