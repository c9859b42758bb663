/**
 * The set of issuers one testbed serves: the main one and the fixture's further issuers (e.g. the
 * FAPI 2.0 profile at /fapi2), each in its own namespace of the store.
 */

import { servedIssuers } from '../fixtures/issuers.ts';
import type { Fixture } from '../fixtures/schema.ts';
import type { Problem } from '../fixtures/semantics.ts';
import type { Logger } from '../log.ts';
import { clientMetadataProblems } from '../provider/clients.ts';
import type { IssuerKeys } from '../provider/keys.ts';
import type { Store } from '../store/store.ts';
import { UserDirectory } from '../store/user-directory.ts';
import { createIssuer, type Issuer } from './create-issuer.ts';

export interface IssuerInputs {
  issuerUrl: string;
  rootStore: Store;
  keys: IssuerKeys;
  logger: Logger;
  controlToken?: string;
}

/** The fixture's issuers, by path ('' is the main one), each in its own namespace of the store. */
export function createIssuers(
  fixture: Fixture,
  { issuerUrl, rootStore, keys, logger, controlToken }: IssuerInputs,
): { issuers: Record<string, Issuer>; mainUsers: UserDirectory } {
  const mainStore = rootStore.namespace(issuerUrl);
  const mainUsers = new UserDirectory(fixture.users, mainStore);
  const issuers: Record<string, Issuer> = {};
  for (const served of servedIssuers(fixture)) {
    const url = `${issuerUrl}${served.path}`;
    const store = served.path ? rootStore.namespace(url) : mainStore;
    // Issuers that inherit the main fixture's users share its directory (and claim changes).
    const users = served.fixture.users === fixture.users ? mainUsers : new UserDirectory(served.fixture.users, store);
    issuers[served.path] = createIssuer({
      issuer: url,
      mountPath: new URL(url).pathname.replace(/\/$/, ''),
      fixture: served.fixture,
      keys,
      store,
      users,
      logger,
      controlToken,
    });
  }
  return { issuers, mainUsers };
}

/** The fixture clients oidc-provider refuses, on every issuer, by their path in the fixture. */
export async function refusedClients(fixture: Fixture, issuers: Readonly<Record<string, Issuer>>): Promise<Problem[]> {
  const problems = await Promise.all(
    Object.entries(issuers).map(async ([path, issuer]) => {
      const at = path ? ['issuers', fixture.issuers.findIndex((extra) => extra.path === path)] : [];
      return (await clientMetadataProblems(issuer.provider, issuer.clients)).map((problem) => ({
        ...problem,
        path: [...at, ...problem.path],
      }));
    }),
  );
  return problems.flat();
}
