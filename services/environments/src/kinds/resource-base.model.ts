import { Field, ID, Int, InterfaceType } from '@nestjs/graphql';

@InterfaceType('EnvironmentResource', { description: 'Fields every environment resource has.' })
export abstract class EnvironmentResourceBase {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field({ description: 'Whether credentials are stored; they are never returned.' }) hasCredentials!: boolean;
  @Field() createdAt!: Date;
  @Field() createdBy!: string;
  @Field() updatedAt!: Date;
  @Field() updatedBy!: string;
  @Field(() => Int, { description: 'Increases with every update.' }) version!: number;
}
