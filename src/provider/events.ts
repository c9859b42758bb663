import type { EventEmitter } from 'node:events';
import type { Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';

/**
 * Logs what a person debugging an RP needs from oidc-provider's events: why a request failed
 * (`error_detail` is often more precise than the `error_description` the client sees) and what
 * happened to back-channel deliveries. Token values are never logged.
 */
export function logProviderEvents(provider: Provider, logger: Logger): void {
  const events = provider as unknown as EventEmitter;
  const clientErrors = [
    'authorization.error',
    'grant.error',
    'introspection.error',
    'revocation.error',
    'userinfo.error',
    'end_session.error',
    'backchannel_authentication.error',
    'device_authorization.error',
    'pushed_authorization_request.error',
    'registration_create.error',
    'code_verification.error',
    'discovery.error',
    'jwks.error',
    'check_session_origin.error',
  ];
  for (const event of clientErrors) {
    events.on(event, (ctx: { oidc?: { client?: { clientId?: string } } }, error: Error & { error?: string; error_detail?: string }) => {
      logger.info(
        { event, client_id: ctx?.oidc?.client?.clientId, error: error.error ?? error.name, detail: error.error_detail ?? error.message },
        'request rejected',
      );
    });
  }
  events.on('server_error', (_ctx: unknown, error: Error) => {
    logger.error({ event: 'server_error', err: error }, 'server error');
  });
  events.on('backchannel.error', (_ctx: unknown, error: Error, client: { clientId: string }, accountId: string, sid: string) => {
    logger.warn(
      { event: 'backchannel.error', client_id: client.clientId, sub: accountId, sid, detail: error.message },
      'back-channel logout delivery failed',
    );
  });
  events.on('backchannel.success', (_ctx: unknown, client: { clientId: string }, accountId: string, sid: string) => {
    logger.info({ event: 'backchannel.success', client_id: client.clientId, sub: accountId, sid }, 'back-channel logout delivered');
  });
}
