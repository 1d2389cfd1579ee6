import { Role, type Identity } from '@pipewright/contracts';
import { SetMetadata, type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

const ROLES_KEY = 'pw:roles';

/** The roles any one of which lets a caller through. ADMIN passes every check but APPROVAL_ADMIN's. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

export function hasRole(identity: Identity, wanted: Role[]): boolean {
  return wanted.some((r) => identity.roles.includes(r) || (r !== Role.APPROVAL_ADMIN && identity.roles.includes(Role.ADMIN)));
}

/** The verified identity on a GraphQL request context (set from the gateway's signed headers). */
export interface RequestContext {
  identity: Identity;
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const wanted = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
    if (!wanted?.length || context.getType<string>() !== 'graphql') return true;
    const { identity } = GqlExecutionContext.create(context).getContext<RequestContext>();
    if (!identity) throw new GraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED' } });
    if (!hasRole(identity, wanted)) {
      throw new GraphQLError(`this needs one of the roles ${wanted.join(', ')}; you have ${identity.roles.join(', ') || 'none'}`, {
        extensions: { code: 'FORBIDDEN' },
      });
    }
    return true;
  }
}
