/**
 * Bearer-key check in constant time: both sides are hashed first, so neither the key's length nor a matching
 * prefix shows in the comparison time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ServerRequestError } from '../errors';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function createBearerCheck(apiKey: string): (authorization: string | undefined) => void {
  const expected = digest(apiKey);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (match === null || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      throw new ServerRequestError('Missing or wrong API key: send the header "Authorization: Bearer <key>" with the key the server was started with.', {
        details: { status: 401, type: 'authentication_error', param: null, openAiCode: 'invalid_api_key' },
      });
    }
  };
}
