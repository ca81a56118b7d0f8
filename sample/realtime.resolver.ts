import { BadRequestException } from '@nestjs/common';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Authenticated, CurrentUser } from '../lib/index.js';
import { UsersService } from './users.service.js';

/** The schema of `POST /graphql` (schema-first: no type generation at startup). */
export const REALTIME_TYPE_DEFS = /* GraphQL */ `
  type User {
    id: ID!
    email: String
    role: String
  }
  type Note {
    id: Int!
    text: String!
  }
  type Query {
    me: User!
  }
  type Mutation {
    addNote(text: String!): Note!
  }
`;

/** `{ me }` and `addNote` over GraphQL: the same guard, the same CSRF rule as `POST /notes`. */
@Resolver()
@Authenticated()
export class RealtimeResolver {
  private nextNoteId = 1;

  constructor(private readonly users: UsersService) {}

  @Query('me')
  me(@CurrentUser() current: { id: string }) {
    return this.users.byId(current.id) ?? { id: current.id, email: null, role: null };
  }

  @Mutation('addNote')
  addNote(@Args('text') text: string) {
    if (text.length === 0 || text.length > 1000) throw new BadRequestException('text must be 1-1000 characters');
    return { id: this.nextNoteId++, text };
  }
}
