import { Router, type Request, type Response } from 'express';
import type { RateLimits } from '../../common/rate-limits';
import { clientAddressOf } from '../../common/client-address';
import { DomainError, ErrorCode, wwwAuthenticate } from '../../errors';
import type { PersonalAccessTokensService } from './personal-access-tokens.service';

/** SimpleJWT's answer to a bad token, which Label Studio's clients read. */
const TOKEN_NOT_VALID = { detail: 'Given token not valid for any token type', code: 'token_not_valid' };

/** SimpleJWT's 401, with the challenge HTTP asks of every 401 (RFC 9110 §15.5.2). */
function refuseToken(res: Response): void {
  res.status(401).set('www-authenticate', wwwAuthenticate('invalid_token', TOKEN_NOT_VALID.detail)).json(TOKEN_NOT_VALID);
}

function field(req: Request, name: string): string | null {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Maps a rate limit to 429 with Retry-After; an outage (503) and anything unexpected go on to the one JSON error handler. */
async function answer(res: Response, work: () => Promise<void>, next: (error: unknown) => void): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof DomainError && error.code === ErrorCode.RATE_LIMITED) {
      res.status(429).set('retry-after', String(error.details.retryAfter)).json({ detail: error.message, code: 'throttled' });
      return;
    }
    if (error instanceof DomainError && error.code === ErrorCode.UNAUTHENTICATED) {
      refuseToken(res);
      return;
    }
    next(error);
  }
}

/**
 * Label Studio and SimpleJWT compatible endpoints:
 * `POST /api/token/refresh {"refresh"}` → `{"access"}`, and
 * `POST /api/token/verify {"token"}` → `{}` or 401, with their exact error shapes.
 */
export function tokenEndpoints(pats: PersonalAccessTokensService, rateLimits: RateLimits): Router {
  const router = Router();
  router.post('/refresh', (req, res, next) =>
    answer(res, async () => {
      const refresh = field(req, 'refresh');
      if (!refresh) {
        res.status(400).json({ refresh: ['This field may not be blank.'] });
        return;
      }
      const { access } = await pats.refresh(clientAddressOf(req), refresh);
      res.json({ access });
    }, next),
  );
  router.post('/verify', (req, res, next) =>
    answer(res, async () => {
      const token = field(req, 'token');
      if (!token) {
        res.status(400).json({ token: ['This field may not be blank.'] });
        return;
      }
      await rateLimits.consumeTokenEndpoint(clientAddressOf(req));
      const result = await pats.check(token);
      if (result.ok) res.json({});
      else refuseToken(res);
    }, next),
  );
  return router;
}
