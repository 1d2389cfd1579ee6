import { Directive, Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { ConnectionType } from '@pipewright/platform';

@ObjectType({ description: 'A unit of ownership and access: its members hold project roles; every resource, pipeline, run and build belongs to one.' })
@Directive('@key(fields: "id")')
export class Project {
  @Field(() => ID) id!: string;
  @Field({ description: 'URL-safe and unique, e.g. "payments".' }) slug!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field() createdAt!: Date;
  @Field() createdBy!: string;
  @Field() updatedAt!: Date;
  @Field() updatedBy!: string;
}

export const ProjectConnection = ConnectionType(Project, 'Project');

@InputType()
export class CreateProjectInput {
  @Field() name!: string;
  @Field({ description: '1-63 lower-case letters, digits or "-"; unique; cannot be changed later.' }) slug!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType({ description: 'Fields left out stay as they are; a null description clears it.' })
export class UpdateProjectInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
}
