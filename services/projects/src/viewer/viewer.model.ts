import { Field, ObjectType } from '@nestjs/graphql';
import { Role } from '@pipewright/contracts';
import { Project } from '../projects/project.model';
import { ProjectRole } from '../roles';

@ObjectType({ description: 'One project the caller belongs to, with the roles held there.' })
export class ViewerMembership {
  @Field(() => Project) project!: Project;
  @Field(() => [ProjectRole]) roles!: ProjectRole[];
}

@ObjectType({ description: 'Who the caller is, as the gateway verified it.' })
export class CurrentViewer {
  @Field() sub!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field(() => [Role], { description: 'Platform roles (only ADMIN means anything platform-wide).' }) roles!: Role[];
  @Field({ description: 'How the caller signed in: oidc, api-token or system.' }) via!: string;
  @Field(() => [ViewerMembership]) projects!: ViewerMembership[];
}
