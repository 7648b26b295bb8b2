import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Config } from './config';

/**
 * Limits on what one GraphQL document may ask (graphql-armor): depth, aliases,
 * cost and directives, each refused with a 400 that names the limit; the token
 * limit is graphql-js's parser option, set beside it in app.ts.
 * Field suggestions ("did you mean …") are off whenever introspection is,
 * since they reveal the schema just the same.
 */
export function graphqlLimits(config: Config) {
  const limits = config.graphqlLimits;
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    // The default allow list exempts `__typename`, so 300 aliases of it passed; every alias counts here.
    maxAliases: { n: limits.maxAliases, allowList: [] },
    // Counted by graphql-js's own parser instead (Apollo's parseOptions): a 400 rather than the plugin's 500.
    maxTokens: { enabled: false },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true },
    maxDirectives: { n: limits.maxDirectives },
    blockFieldSuggestion: { enabled: !config.introspection },
  }).protect();
}
