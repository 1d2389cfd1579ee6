import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { ConnectionType } from '@pipewright/platform';
import { ProjectRole } from '../roles';

@ObjectType({ description: 'A token for CI systems and scripts: it acts in one project with its roles. The token itself is shown only once, when created.' })
export class ApiToken {
  @Field(() => ID) id!: string;
  @Field(() => ID) projectId!: string;
  @Field() name!: string;
  @Field(() => [ProjectRole]) roles!: ProjectRole[];
  @Field() createdBy!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'null: it never expires.' }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
}

export const ApiTokenConnection = ConnectionType(ApiToken, 'ApiToken');

@ObjectType()
export class CreatedApiToken {
  @Field({ description: 'The token, shown only this once: use it as a Bearer token. Only its hash is stored.' }) token!: string;
  @Field(() => ApiToken) apiToken!: ApiToken;
}

@InputType()
export class CreateApiTokenInput {
  @Field(() => ID) projectId!: string;
  @Field() name!: string;
  @Field(() => [ProjectRole]) roles!: ProjectRole[];
  @Field(() => Int, { nullable: true, description: '1-3650; null or left out: it never expires.' }) expiresInDays?: number | null;
}
