import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimits } from '../../common/rate-limits';
import { clientAddressOf } from '../../common/client-address';
import { DomainError, ErrorCode, wwwAuthenticate } from '../../errors';
import type { AccessTokenVerifier } from '../../credentials/access-token-verifier';
import type { PersonalAccessTokensService } from './personal-access-tokens.service';

/** SimpleJWT's answer to a bad token, which Label Studio's clients read. */
const TOKEN_NOT_VALID = { detail: 'Given token not valid for any token type', code: 'token_not_valid' };

/** SimpleJWT's 401, with the challenge HTTP asks of every 401 (RFC 9110 §15.5.2). */
function refuseToken(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('www-authenticate', wwwAuthenticate('invalid_token', TOKEN_NOT_VALID.detail)).send(TOKEN_NOT_VALID);
}

function field(request: FastifyRequest, name: string): string | null {
  const value = (request.body as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Maps a rate limit to 429 with Retry-After; an outage (503) and anything unexpected go on to the one JSON error handler. */
async function answer(reply: FastifyReply, work: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError && error.code === ErrorCode.RATE_LIMITED) {
      return reply.code(429).header('retry-after', String(error.details.retryAfter)).send({ detail: error.message, code: 'throttled' });
    }
    if (error instanceof DomainError && error.code === ErrorCode.UNAUTHENTICATED) return refuseToken(reply);
    throw error;
  }
}

/**
 * Label Studio and SimpleJWT compatible endpoints:
 * `POST /api/token/refresh {"refresh"}` → `{"access"}`, and
 * `POST /api/token/verify {"token"}` → `{}` or 401, with their exact error shapes.
 */
export function tokenEndpoints(app: FastifyInstance, pats: PersonalAccessTokensService, accessTokens: AccessTokenVerifier, rateLimits: RateLimits): void {
  app.post('/refresh', (request, reply) =>
    answer(reply, async () => {
      const refresh = field(request, 'refresh');
      if (!refresh) return reply.code(400).send({ refresh: ['This field may not be blank.'] });
      const { access } = await pats.refresh(clientAddressOf(request), refresh);
      return reply.send({ access });
    }),
  );
  app.post('/verify', (request, reply) =>
    answer(reply, async () => {
      const token = field(request, 'token');
      if (!token) return reply.code(400).send({ token: ['This field may not be blank.'] });
      await rateLimits.consumeTokenEndpoint(clientAddressOf(request));
      const result = await accessTokens.verify(token);
      return result.ok ? reply.send({}) : refuseToken(reply);
    }),
  );
}
