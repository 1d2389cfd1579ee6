import { Directive, Field, InputType, ObjectType } from '@nestjs/graphql';
import type { ResolvedSecret } from '@pipewright/contracts';
import { z } from 'zod';
import { baseModel, type KindDefinition } from './kind';
import { EnvironmentResourceBase, InProjectInput } from './resource-base.model';

@ObjectType({
  implements: () => [EnvironmentResourceBase],
  description: 'A value a stage may use as ${secrets.NAME} (WEBHOOK URL, headers and body; BUILD_JENKINS parameters). Write-only: sealed at rest, never returned; resolved only while the stage runs and masked in what it records.',
})
@Directive('@key(fields: "id")')
export class Secret extends EnvironmentResourceBase {}

@InputType()
export class CreateSecretInput extends InProjectInput {
  @Field({ description: 'How stages name it: ${secrets.NAME}. Letters, digits and "_", not starting with a digit; unique in the project.' }) name!: string;
  @Field({ description: 'The value (write-only).' }) value!: string;
}

@InputType({ description: 'Omitted fields keep their value.' })
export class UpdateSecretInput {
  @Field({ nullable: true }) name?: string;
  @Field({ nullable: true, description: 'A new value (write-only).' }) value?: string;
}

/** `${secrets.NAME}`: what a name must look like to be written in a stage. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

const schema = z.object({
  name: z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .transform((v) => v.trim())
    .refine((v) => SECRET_NAME.test(v), { message: 'must be letters, digits and "_", not starting with a digit, at most 100 characters (stages write it as ${secrets.NAME})' }),
  value: z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .refine((v) => v.length > 0, { message: 'must not be empty' })
    .refine((v) => v.length <= 65536, { message: 'must be at most 64 KB' })
    // At least 4 characters: a shorter value would mask common words in what a stage records.
    .refine((v) => v.length >= 4, { message: 'must be at least 4 characters (shorter values cannot be masked safely)' }),
});

export const secretKind: KindDefinition<ResolvedSecret> = {
  kind: 'secret',
  typeName: 'Secret',
  singular: 'secret',
  plural: 'secrets',
  label: 'secret',
  secretFields: ['value'],
  schema,
  model: Secret,
  createInput: CreateSecretInput,
  updateInput: UpdateSecretInput,
  resolveSubject: 'rpc.environments.secret.resolve',
  toModel: (row) => baseModel(row),
  resolved: (row, secrets) => ({ id: row.id, name: row.name, value: secrets.value ?? '' }),
  probe: async () => ({ message: 'a secret has no endpoint to test: it is stored sealed, and a stage that names it gets its value' }),
};
