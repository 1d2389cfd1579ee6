import { Field, Int, ObjectType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';

@ObjectType({ description: 'What probing an endpoint found.' })
export class ProbeResult {
  @Field({ description: 'Whether the endpoint answered as expected with the stored credentials.' })
  ok!: boolean;

  @Field({ description: 'What was found, or what failed and what to check.' })
  message!: string;

  @Field(() => Int)
  latencyMs!: number;

  @Field(() => GraphQLJSON, { nullable: true })
  details!: Record<string, unknown> | null;
}

export interface ProbeOutcome {
  message: string;
  details?: Record<string, unknown>;
}
