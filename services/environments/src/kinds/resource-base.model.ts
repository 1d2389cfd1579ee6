import { Field, ID, InputType, Int, InterfaceType } from '@nestjs/graphql';
import { ProjectRef } from '../projects/project-ref.model';

@InterfaceType('EnvironmentResource', { description: 'Fields every environment resource has.' })
export abstract class EnvironmentResourceBase {
  @Field(() => ID) id!: string;
  @Field(() => ID, { description: 'The project it belongs to; only pipelines of that project may use it.' }) projectId!: string;
  @Field(() => ProjectRef, { nullable: true }) project!: ProjectRef | null;
  @Field() name!: string;
  @Field({ description: 'Whether credentials are stored; they are never returned.' }) hasCredentials!: boolean;
  @Field() createdAt!: Date;
  @Field() createdBy!: string;
  @Field() updatedAt!: Date;
  @Field() updatedBy!: string;
  @Field(() => Int, { description: 'Increases with every update.' }) version!: number;
}

/** What every create input takes besides the kind's fields: the project to create it in. */
@InputType({ isAbstract: true })
export abstract class InProjectInput {
  @Field(() => ID, { nullable: true, description: 'The project to create it in (its ADMIN role is needed); default: the project named "default".' })
  projectId?: string | null;
}
