import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { DynamicModule, Provider } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { RealtimeGateway } from './realtime.gateway.js';
import { REALTIME_TYPE_DEFS, RealtimeResolver } from './realtime.resolver.js';
import { RealtimeWsAdapterSetup } from './realtime-ws.adapter.js';

/** Express hands Apollo's context `{req, res}`; Fastify hands it `(request, reply)`. */
function graphqlContext(first: { req?: unknown; res?: unknown }, reply?: unknown) {
  return first.req ? { req: first.req, res: first.res } : { req: first, res: reply };
}

/**
 * `POST /graphql` and `GET /ws` of the sample (DESIGN.md, "Contract additions"). Spread into
 * AppModule, so the resolver and the gateway share its UsersService.
 */
export const realtimeImports = (): DynamicModule[] => [
  GraphQLModule.forRoot<ApolloDriverConfig>({
    driver: ApolloDriver,
    path: '/graphql',
    typeDefs: REALTIME_TYPE_DEFS,
    context: graphqlContext,
    graphiql: false,
    // No stack traces in answers (S-47).
    includeStacktraceInErrorResponses: false,
  }),
];

export const realtimeProviders: Provider[] = [RealtimeWsAdapterSetup, RealtimeResolver, RealtimeGateway];
